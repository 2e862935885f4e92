"""A pytest plugin (installed with valetkey): a real sandbox provider for your tests.

    def test_sign_in(valetkey_sandbox):
        client = valetkey_sandbox.add_client("my-app", ["http://127.0.0.1:5000/callback"])
        valetkey_sandbox.add_user("carol", "carol-password", name="Carol")
        ...

The `valetkey_sandbox` fixture starts `valetkey serve` on a free loopback port with a fresh
SQLite database in the test's temporary folder, and stops it afterwards by PID.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import httpx
import pytest

from valetkey.oauth.client_metadata import DEFAULT_SCOPE, client_metadata, client_secret
from valetkey.probe.agent import UserAgent
from valetkey.provider import process
from valetkey.provider.passwords import Passwords
from valetkey.provider.registration import client_record
from valetkey.provider.settings import build_settings
from valetkey.provider.store.open import open_store

DEFAULT_SCOPES = DEFAULT_SCOPE


@dataclass(frozen=True)
class RegisteredClient:
    client_id: str
    client_secret: str | None
    redirect_uris: tuple[str, ...]


class SandboxFixture:
    """The running sandbox, with helpers to set it up from a test."""

    def __init__(self, running: process.SandboxProcess, admin_token: str) -> None:
        self.process = running
        self.issuer = running.issuer
        self.discovery_url = f"{running.issuer}/.well-known/openid-configuration"
        # the admin API (see docs/sandbox.md): faults, clock, key rotation, request log ...
        self.admin = httpx.Client(base_url=f"{running.issuer}/admin", timeout=10,
                                  headers={"authorization": f"Bearer {admin_token}"})

    def add_user(self, username: str, password: str, **claims: object) -> None:
        """A user with a password and claims (name=..., email=..., email_verified=True)."""
        store = open_store(build_settings({"db": self.process.db}, environ={}))
        try:
            store.add_user(username, Passwords().hash(password), dict(claims), time.time())
        finally:
            store.close()

    def add_client(self, client_id: str, redirect_uris: Sequence[str], *, public: bool = False,
                   scopes: str = DEFAULT_SCOPES,
                   grants: Sequence[str] | None = None, auth_method: str | None = None,
                   response_types: Sequence[str] | None = None) -> RegisteredClient:
        """Register a client by the rules `valetkey clients add` follows (its defaults too:
        authorization_code and refresh_token, client_secret_basic or none for a public
        client, the code response type); a confidential one gets a fresh secret, returned."""
        metadata = client_metadata(
            client_id=client_id, public=public, redirect_uris=redirect_uris, scope=scopes,
            grant_types=grants, token_endpoint_auth_method=auth_method,
            response_types=response_types)
        secret = client_secret(None, public)
        self.process.register(client_record(metadata, secret))
        return RegisteredClient(client_id, secret, metadata.redirect_uris)

    def login_as(self, username: str, password: str) -> UserAgent:
        """A browser-like session already signed in at the sandbox as this user: hand it
        an authorization URL (`.navigate(url, stop_at=...)`) and it goes straight through."""
        agent = UserAgent(username, password)
        agent.navigate(f"{self.issuer}/login")
        return agent


@pytest.fixture
def valetkey_sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SandboxFixture]:
    """A fresh valetkey sandbox provider for one test."""
    token = secrets.token_urlsafe(24)
    running = process.start(tmp_path_factory.mktemp("valetkey-sandbox"), "--no-demo-data",
                            env={"VALETKEY_ADMIN_TOKEN": token})
    fixture = SandboxFixture(running, token)
    try:
        yield fixture
    finally:
        fixture.admin.close()
        running.stop()

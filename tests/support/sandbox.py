"""A real `valetkey serve` process for the tests, with helpers to set up its database."""

from __future__ import annotations

import dataclasses
import re
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

from valetkey.oauth.client_metadata import client_metadata, client_secret
from valetkey.provider import process
from valetkey.provider.passwords import Passwords
from valetkey.provider.registration import client_record
from valetkey.provider.settings import build_settings
from valetkey.provider.store.open import open_store
from valetkey.provider.store.queries import Store
from valetkey.useragent.agent import UserAgent
from valetkey.useragent.authorization import ClientRequest

# the demo's confidential client, as the sandbox's demo data registers it
REDIRECT = "http://127.0.0.1:8500/callback"
DEMO_CLIENT = ClientRequest("photo-printer", REDIRECT, "openid profile photos.read")

# every sandbox the tests started, and every secret they gave one: scanned at the end
STARTED: list[str] = []
SECRETS: set[str] = set()


@dataclass
class Sandbox(process.SandboxProcess):
    @property
    def admin_token(self) -> str:
        """The admin token the sandbox printed at start."""
        line = next(x for x in self.output().splitlines() if "Admin API:" in x)
        return line.rsplit(" ", 1)[-1]

    @property
    def secret(self) -> str:
        return str(self.creds["client_secret"])

    def password(self, user: str) -> str:
        return str(self.creds["users"][user])

    def redeem(
        self,
        code: str,
        verifier: str,
        redirect_uri: str = REDIRECT,
        client: tuple[str, str] | None = None,
        **headers: str,
    ) -> httpx.Response:
        """The token request of the demo's confidential client for this code."""
        return httpx.post(
            self.issuer + "/token",
            auth=client or ("photo-printer", self.secret),
            data={
                "grant_type": "authorization_code",
                "code": code,
                "redirect_uri": redirect_uri,
                "code_verifier": verifier,
            },
            headers=headers,
            timeout=10,
        )

    def store(self) -> Store:
        return open_store(build_settings({"db": self.db}, environ={}))

    def add_user(self, username: str, password: str, **claims: object) -> None:
        SECRETS.add(password)
        hashed = Passwords(weak=True).hash(password)
        self.store().add_user(username, hashed, dict(claims), time.time())

    def add_client(
        self,
        client_id: str,
        secret: str | None,
        redirect_uris: tuple[str, ...],
        scopes: str = "openid profile email photos.read offline_access",
        grants: tuple[str, ...] = ("authorization_code", "refresh_token"),
        id_token_alg: str = "RS256",
        auth_method: str | None = None,
        response_types: tuple[str, ...] | None = None,
    ) -> None:
        """Register a client by the registration rules, straight in the database. The
        redirect URIs are stored exactly as given, like rows written before those rules
        existed (tests of such rows rely on it)."""
        if secret:
            SECRETS.add(secret)
        metadata = client_metadata(
            client_id=client_id,
            public=secret is None,
            redirect_uris=redirect_uris,
            scope=scopes,
            grant_types=grants,
            token_endpoint_auth_method=auth_method,
            response_types=response_types,
            id_token_signed_response_alg=id_token_alg,
        )
        record = client_record(metadata, client_secret(secret, secret is None))
        client = dataclasses.replace(record, redirect_uris=redirect_uris)
        self.store().add_client(client, time.time())


def start_sandbox(
    data_dir: Path, *args: str, db: str | None = None, env: dict[str, str] | None = None
) -> Sandbox:
    started = process.start(data_dir, *args, db=db, env=env)
    STARTED.append(started.db)
    SECRETS.update(str(p) for p in started.creds.get("users", {}).values())
    if started.creds.get("client_secret"):
        SECRETS.add(str(started.creds["client_secret"]))
    return Sandbox(
        started.issuer,
        started.data_dir,
        started.proc,
        started.db,
        started.log,
        started.creds,
        started.url,
    )


def demo_browser(issuer: str) -> UserAgent:
    """A fresh browser at this issuer that starts flows for the demo's photo-printer client."""
    return UserAgent(base_url=issuer, timeout=15, client=DEMO_CLIENT)


def hidden(html: str, name: str) -> str:
    """The value of the page's input `name` (it must be there)."""
    match = re.search(rf'name="{name}" value="([^"]*)"', html)
    assert match is not None, f"no hidden input {name!r} in page"
    return match.group(1)

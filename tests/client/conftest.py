"""Fixtures for the photo-printer app: the app in both variants, against a real sandbox."""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import pytest

from tests.support.sandbox import Sandbox
from valetkey.client import apps
from valetkey.client.config import ClientConfig, ClientLab
from valetkey.client.server import BackgroundServer, free_socket

AppFactory = Callable[..., BackgroundServer]


@contextmanager
def running_app(
    variant: str, config_for: Callable[[str], ClientConfig]
) -> Iterator[BackgroundServer]:
    sock = free_socket()
    origin = f"http://127.0.0.1:{sock.getsockname()[1]}"
    config = config_for(origin)
    server = BackgroundServer(apps.create_app(variant, config), sock).start()
    try:
        yield server
    finally:
        server.stop()


def sandbox_config(
    sandbox: Sandbox, origin: str, lab: frozenset[ClientLab] = frozenset()
) -> ClientConfig:
    client_id = f"pp-{secrets.token_hex(4)}"
    secret = secrets.token_urlsafe(32)
    sandbox.add_client(
        client_id, secret, (origin + "/callback",), scopes="openid profile photos.read read:user"
    )
    return ClientConfig.for_sandbox(sandbox.issuer, client_id, secret, origin + "/callback", lab)


@pytest.fixture(params=["steps", "authlib"])
def app(request: pytest.FixtureRequest, sandbox: Sandbox) -> Iterator[BackgroundServer]:
    with running_app(request.param, lambda origin: sandbox_config(sandbox, origin)) as server:
        yield server

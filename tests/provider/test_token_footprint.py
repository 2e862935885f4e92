"""What one token request costs the code base: the source files whose code runs for it and the
write transactions it makes (one write transaction; at most 12 files of the provider, plus the
protocol layer's primitives).

Measured in-process on a real server over 127.0.0.1: a profiler on every thread records the
file of each Python function called while the token request is served, and SQLite's trace
callback records every BEGIN (each write transaction starts with one; reads do not).
"""

from __future__ import annotations

import sqlite3
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from types import FrameType
from typing import Any

import httpx
import pytest

import valetkey
from tests.support.asgi_server import AsgiServer
from tests.support.sandbox import REDIRECT, demo_browser
from valetkey.provider.app import create_app
from valetkey.provider.core import Provider
from valetkey.provider.demo_data import seed
from valetkey.provider.settings import build_settings
from valetkey.provider.store import driver
from valetkey.provider.store.open import open_store

SRC = Path(valetkey.__file__).parent


class Footprint:
    def __init__(self) -> None:
        self.on = False
        self.files: set[str] = set()
        self.statements: list[str] = []
        self.lock = threading.Lock()

    def profile(self, frame: FrameType, event: str, arg: Any) -> None:
        if self.on and event == "call":
            name = frame.f_code.co_filename
            if name.startswith(str(SRC)):
                with self.lock:
                    self.files.add(str(Path(name).relative_to(SRC)))

    def trace_sql(self, statement: str) -> None:
        if self.on:
            with self.lock:
                self.statements.append(statement.strip().split()[0].upper())


@pytest.fixture
def footprint(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[Footprint, str, Any]]:
    seen = Footprint()
    original = driver.Database._connect_sqlite

    def traced(self: driver.Database) -> sqlite3.Connection:
        conn = original(self)
        conn.set_trace_callback(seen.trace_sql)
        return conn

    monkeypatch.setattr(driver.Database, "_connect_sqlite", traced)
    settings = build_settings(
        {"db": f"sqlite:///{tmp_path / 'vk.sqlite'}", "lab": "weak-password-hash"},
        environ={},
    )
    store = open_store(settings)
    provider = Provider(settings, store)
    creds = seed(store, provider.passwords, provider.clock.now())
    assert creds is not None
    threading.setprofile(seen.profile)  # every thread started from here on: server, workers
    sys.setprofile(seen.profile)
    server = AsgiServer(create_app(provider)).start()
    try:
        yield seen, server.url, creds
    finally:
        sys.setprofile(None)
        threading.setprofile(None)  # type: ignore[arg-type]
        server.stop()
        store.close()


def test_a_token_request_touches_few_files_and_writes_once(
    footprint: tuple[Footprint, str, Any],
) -> None:
    seen, issuer, creds = footprint
    agent = demo_browser(issuer)

    def redeem(code: str, verifier: str, watched: bool) -> httpx.Response:
        seen.statements.clear()
        seen.on = watched
        try:
            return httpx.post(
                issuer + "/token",
                auth=("photo-printer", creds.client_secret),
                data={
                    "grant_type": "authorization_code",
                    "code": code,
                    "redirect_uri": REDIRECT,
                    "code_verifier": verifier,
                },
                timeout=10,
            )
        finally:
            seen.on = False

    code, auth = agent.code("alice", creds.passwords["alice"])
    assert redeem(code, auth.verifier, False).status_code == 200  # warms caches (tables, SQL)
    code, auth = agent.code("alice", creds.passwords["alice"])
    agent.close()
    answer = redeem(code, auth.verifier, True)
    assert answer.status_code == 200, answer.text
    print(f"\n{len(seen.files)} files: {sorted(seen.files)}\nSQL: {seen.statements}")
    # the claim, the grant, both tokens and the flow records: one transaction
    assert seen.statements.count("BEGIN") == 1, seen.statements
    assert seen.statements.count("COMMIT") == 1, seen.statements
    assert seen.statements[-1] == "COMMIT"
    # the provider's own path, HTTP adapter to store: app, http, core, admin_state (clock),
    # endpoints/token, the pipeline, the RFC 6749 and RFC 7636 checks, grants, tokens, flows
    # and store/queries; plus the sans-I/O protocol layer's scope, pkce, base64url and
    # redaction (separate modules by design: each is one primitive with one definition)
    provider = sorted(f for f in seen.files if f.startswith("provider/"))
    protocol = sorted(f for f in seen.files if f.startswith("oauth/"))
    assert len(provider) <= 12, provider
    assert len(protocol) <= 4, protocol
    assert len(seen.files) == len(provider) + len(protocol), sorted(seen.files)

    # the same code again: refused, its grant revoked and the refusal recorded, in one write
    replay = redeem(code, auth.verifier, True)
    assert replay.json()["error"] == "invalid_grant"
    assert seen.statements.count("BEGIN") == 1, seen.statements
    assert "UPDATE" in seen.statements

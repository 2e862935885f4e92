"""The end-of-suite scanner finds what it must: a known secret, a token shape, a bad file."""

from __future__ import annotations

import time
from pathlib import Path

from tests.support.record_scan import scan
from valetkey.oauth.flow import FlowEvent
from valetkey.provider.settings import build_settings
from valetkey.provider.store.open import open_store


def test_scanner_catches_secrets(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'records.db'}"
    store = open_store(build_settings({"db": url}, environ={}))
    store.start_flow("f", "client", time.time())
    clean = FlowEvent(
        "f",
        time.time(),
        "login",
        "browser",
        "authorization_server",
        "front",
        "s",
        {"username": "alice", "password": "(hidden)"},
        [],
        True,
    )
    store.record(clean)
    assert scan([url], {"a-secret-password"}) == []
    leaky = FlowEvent(
        "f",
        time.time(),
        "login",
        "browser",
        "authorization_server",
        "front",
        "s",
        {"password": "a-secret-password", "t": "vk_at_0123456789abcDEFghijkl"},
        [],
        True,
    )
    store.record(leaky)
    store.close()
    assert scan([url], {"a-secret-password"}) == [
        f"{url} flow f login: holds a known secret",
        f"{url} flow f login: token-shaped vk_at_012345…",
    ]
    assert scan([f"sqlite:///{tmp_path}/missing/x.db"], set()) == [
        f"sqlite:///{tmp_path}/missing/x.db: cannot be read (OperationalError)"
    ]

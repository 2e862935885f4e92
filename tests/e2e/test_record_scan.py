"""The end-of-suite scanner finds what it must: a known secret, a token shape, a bad file."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from tests.support.record_scan import scan
from tests.support.sandbox import Sandbox


def test_scanner_catches_secrets(sandbox: Sandbox, tmp_path: Path) -> None:
    copy = tmp_path / "copy.db"
    source = sqlite3.connect(sandbox.db.removeprefix("sqlite:///"))
    target = sqlite3.connect(copy)
    source.backup(target)
    source.close()
    url = f"sqlite:///{copy}"
    assert scan([url], {"a-secret-password"}) == []
    target.execute(
        "INSERT INTO flow_events (flow_id, at, step, sender, receiver, channel, summary, params,"
        " checks, carried_password) VALUES ('f', 0, 'login', 'b', 'a', 'front', 's', ?, '[]', 1)",
        ('{"password": "a-secret-password", "t": "vk_at_0123456789abcDEFghijkl"}',),
    )
    target.commit()
    target.close()
    assert scan([url], {"a-secret-password"}) == [
        f"{url} flow f login: holds a known secret",
        f"{url} flow f login: token-shaped vk_at_012345…",
    ]
    assert scan([f"sqlite:///{tmp_path}/missing/x.db"], set()) == [
        f"sqlite:///{tmp_path}/missing/x.db: cannot be read (OperationalError)"
    ]

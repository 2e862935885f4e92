"""What survives a restart, and the same flow with PostgreSQL as the store."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from tests.support.postgres import fresh_database
from tests.support.sandbox import Sandbox, demo_browser, start_sandbox


def _tokens(sandbox: Sandbox) -> dict[str, str]:
    agent = demo_browser(sandbox.issuer)
    try:
        code, auth = agent.code("alice", sandbox.password("alice"))
    finally:
        agent.close()
    response = sandbox.redeem(code, auth.verifier)
    assert response.status_code == 200, response.text
    return dict(response.json())


def _restart_keeps_everything(first: Sandbox, data_dir: Path, db: str | None) -> None:
    tokens = _tokens(first)
    jwks = httpx.get(first.issuer + "/jwks.json").json()
    first.stop()
    second = start_sandbox(data_dir, db=db)
    try:
        assert httpx.get(second.issuer + "/jwks.json").json() == jwks
        refreshed = httpx.post(
            second.issuer + "/token",
            auth=("photo-printer", first.secret),
            data={"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]},
        )
        assert refreshed.status_code == 200, refreshed.text
        assert "Demo data (also in" in second.output()
        assert second.password("alice") == first.password("alice")
    finally:
        second.stop()


@pytest.mark.slow
def test_restart_keeps_keys_and_tokens_sqlite(tmp_path: Path) -> None:
    first = start_sandbox(tmp_path)
    try:
        assert "valetkey.db (durability: app-crash)\n" in first.output()
        _restart_keeps_everything(first, tmp_path, None)
    finally:
        first.stop()


@pytest.mark.slow
@pytest.mark.postgres
def test_restart_keeps_keys_and_tokens_postgres(tmp_path: Path) -> None:
    with fresh_database() as url:
        first = start_sandbox(tmp_path, db=url)
        try:
            assert f"Database:   {url} (durability: power-loss)\n" in first.output()
            _restart_keeps_everything(first, tmp_path, url)
        finally:
            first.stop()

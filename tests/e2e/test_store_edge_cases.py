"""Issue 15's low store items: a NUL in credentials, reused user ids, tenant database paths."""

from __future__ import annotations

import httpx

from tests.support.sandbox import Sandbox


def test_nul_in_basic_credentials_is_invalid_client(sandbox: Sandbox) -> None:
    """On PostgreSQL this was a 503 and a logged outage: text cannot hold a NUL."""
    for user in ("photo%00printer", "photo-printer%00", "%00"):
        response = httpx.post(
            sandbox.issuer + "/token",
            data={"grant_type": "client_credentials"},
            headers={"authorization": "Basic " + _basic(user, "secret%00")},
        )
        assert response.status_code == 401, user
        assert response.json()["error"] == "invalid_client"
        assert response.headers["www-authenticate"].startswith("Basic")
    assert "database unavailable" not in sandbox.output()
    assert "Traceback" not in sandbox.output()


def _basic(user: str, secret: str) -> str:
    import base64

    return base64.b64encode(f"{user}:{secret}".encode()).decode()

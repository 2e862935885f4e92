"""RFC 8628 device authorization over real HTTP: the device asks for a user code, polls
(`authorization_pending`, `slow_down`), the user enters the code, signs in and consents on
the usual pages, and the device gets its tokens once; denied is `access_denied`, late is
`expired_token`. The sandbox's clock is moved through the admin API instead of waiting."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.support.sandbox import Sandbox
from valetkey.oauth.client_metadata import DEVICE_CODE
from valetkey.useragent.agent import UserAgent

DEVICE_CLIENT = "tv-photo-frame"


@pytest.fixture(scope="module")
def device_client(sandbox: Sandbox) -> str:
    sandbox.add_client(
        DEVICE_CLIENT,
        None,
        (),
        scopes="openid profile photos.read",
        grants=(DEVICE_CODE, "refresh_token"),
    )
    return DEVICE_CLIENT


def _start(sandbox: Sandbox, client_id: str, **extra: str) -> httpx.Response:
    return httpx.post(
        sandbox.issuer + "/device_authorization",
        data={"client_id": client_id, "scope": "openid photos.read", **extra},
    )


def _poll(sandbox: Sandbox, device_code: str, client_id: str = DEVICE_CLIENT) -> httpx.Response:
    return httpx.post(
        sandbox.issuer + "/token",
        data={"grant_type": DEVICE_CODE, "device_code": device_code, "client_id": client_id},
    )


def _advance(admin: httpx.Client, seconds: int) -> None:
    assert admin.post("/clock", json={"advance": seconds}).status_code == 200


def _error(response: httpx.Response) -> str:
    assert response.status_code == 400, response.text
    return str(response.json()["error"])


def _user_decides(sandbox: Sandbox, started: dict[str, Any], decision: str) -> str:
    """The user opens verification_uri_complete, signs in and decides; the page's text."""
    agent = UserAgent(base_url=sandbox.issuer, timeout=15)
    try:
        page = agent.http.get(started["verification_uri_complete"].removeprefix(sandbox.issuer))
        assert page.status_code == 302
        login = agent.login(page.headers["location"], "alice", sandbox.password("alice"))
        consent_url = login.headers["location"]
        assert consent_url.startswith("/consent?request=")
        consent = agent.http.get(consent_url).text
        assert f"a device showing the code {started['user_code']}" in consent
        return agent.consent(consent_url, decision).text
    finally:
        agent.close()


def test_discovery_names_the_endpoint_and_the_grant(sandbox: Sandbox) -> None:
    meta = httpx.get(sandbox.issuer + "/.well-known/oauth-authorization-server").json()
    assert meta["device_authorization_endpoint"] == sandbox.issuer + "/device_authorization"
    assert DEVICE_CODE in meta["grant_types_supported"]


def test_the_whole_device_flow(sandbox: Sandbox, device_client: str, admin: httpx.Client) -> None:
    response = _start(sandbox, device_client)
    assert response.status_code == 200, response.text
    assert response.headers["cache-control"] == "no-store"
    started = response.json()
    assert set(started) == {
        "device_code",
        "user_code",
        "verification_uri",
        "verification_uri_complete",
        "expires_in",
        "interval",
    }
    assert started["verification_uri"] == sandbox.issuer + "/device"
    assert started["interval"] == 5
    assert started["expires_in"] == 600
    code = started["user_code"]
    assert len(code) == 9
    assert code[4] == "-"
    assert set(code.replace("-", "")) <= set("BCDFGHJKLMNPQRSTVWXZ")

    assert _error(_poll(sandbox, started["device_code"])) == "authorization_pending"
    slow = _poll(sandbox, started["device_code"])  # at once: faster than the interval
    assert _error(slow) == "slow_down"
    assert slow.json()["error_description"] == "poll at most every 10 seconds"

    page = _user_decides(sandbox, started, "allow")
    assert "Done. Go back to your device: it is signed in." in page
    _advance(admin, 10)
    tokens = _poll(sandbox, started["device_code"])
    assert tokens.status_code == 200, tokens.text
    body = tokens.json()
    assert body["token_type"] == "Bearer"
    assert body["scope"] == "openid photos.read"
    assert "refresh_token" in body
    assert "id_token" in body
    photos = httpx.get(
        sandbox.issuer + "/api/photos",
        headers={"authorization": f"Bearer {body['access_token']}"},
    )
    assert photos.json()["owner"] == "alice"
    _advance(admin, 10)
    assert _error(_poll(sandbox, started["device_code"])) == "invalid_grant"  # used once


def test_a_denied_request_is_access_denied(
    sandbox: Sandbox, device_client: str, admin: httpx.Client
) -> None:
    started = _start(sandbox, device_client).json()
    page = _user_decides(sandbox, started, "deny")
    assert "Access denied. The device gets nothing." in page
    assert _error(_poll(sandbox, started["device_code"])) == "access_denied"


def test_a_late_poll_is_expired_token(
    sandbox: Sandbox, device_client: str, admin: httpx.Client
) -> None:
    started = _start(sandbox, device_client).json()
    _advance(admin, 601)
    assert _error(_poll(sandbox, started["device_code"])) == "expired_token"
    agent = UserAgent(base_url=sandbox.issuer, timeout=15)
    try:
        late = agent.http.get("/device", params={"user_code": started["user_code"]})
    finally:
        agent.close()
    assert late.status_code == 400
    assert "This code is not valid" in late.text


@pytest.mark.parametrize(
    ("data", "status", "error"),
    [
        ({"client_id": "photo-printer-spa"}, 400, "unauthorized_client"),  # not registered for it
        ({"client_id": "no-such-client"}, 401, "invalid_client"),
        ({"client_id": DEVICE_CLIENT, "scope": "admin"}, 400, "invalid_scope"),
        ({"client_id": DEVICE_CLIENT, "scope": "openid\x01"}, 400, "invalid_scope"),
    ],
)
def test_device_authorization_refuses(
    sandbox: Sandbox, device_client: str, data: dict[str, str], status: int, error: str
) -> None:
    response = httpx.post(sandbox.issuer + "/device_authorization", data=data)
    assert response.status_code == status, response.text
    assert response.json()["error"] == error


def test_unknown_device_codes_and_other_clients(sandbox: Sandbox, device_client: str) -> None:
    assert _error(_poll(sandbox, "not-a-device-code")) == "invalid_grant"
    started = _start(sandbox, device_client).json()
    other = _poll(sandbox, started["device_code"], client_id="photo-printer-spa")
    assert _error(other) == "unauthorized_client"  # not registered for the grant
    missing = httpx.post(
        sandbox.issuer + "/token", data={"grant_type": DEVICE_CODE, "client_id": DEVICE_CLIENT}
    )
    assert _error(missing) == "invalid_grant"


def test_the_user_code_page(sandbox: Sandbox) -> None:
    agent = UserAgent(base_url=sandbox.issuer, timeout=15)
    try:
        form = agent.http.get("/device")
        assert form.status_code == 200
        assert 'name="user_code"' in form.text
        wrong = agent.http.get("/device", params={"user_code": "BCDF-GHJK"})
        assert wrong.status_code == 400
        assert "This code is not valid" in wrong.text
    finally:
        agent.close()

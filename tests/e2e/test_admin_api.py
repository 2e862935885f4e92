"""The admin API: guarded by the token, sets up users and clients, steers the sandbox."""

from __future__ import annotations

import time

import httpx
import pytest

from tests.support.sandbox import REDIRECT, Sandbox, demo_browser


@pytest.fixture
def admin(sandbox: Sandbox) -> httpx.Client:
    return httpx.Client(
        base_url=sandbox.issuer + "/admin",
        timeout=10,
        headers={"authorization": f"Bearer {sandbox.admin_token}"},
    )


@pytest.mark.parametrize("header", [None, "Bearer wrong-token-0123456789", "Basic eDp5"])
def test_refused_without_the_token(sandbox: Sandbox, header: str | None) -> None:
    headers = {"authorization": header} if header else {}
    answer = httpx.get(sandbox.issuer + "/admin/users", headers=headers)
    assert answer.status_code == 401
    assert answer.json()["error"] == "unauthorized"
    assert answer.headers["www-authenticate"] == 'Bearer realm="valetkey-admin"'


def test_users_crud_and_login(sandbox: Sandbox, admin: httpx.Client) -> None:
    created = admin.post(
        "/users",
        json={"username": "ada-admin", "password": "ada-pass-1234", "claims": {"name": "Ada"}},
    )
    assert created.status_code == 201
    assert created.json()["claims"] == {"name": "Ada"}
    assert admin.post("/users", json={"username": "ada-admin", "password": "x"}).status_code == 409
    changed = admin.patch(
        "/users/ada-admin",
        json={"claims": {"email": "ada@example.org"}, "password": "ada-pass-5678"},
    )
    assert changed.json()["claims"] == {"name": "Ada", "email": "ada@example.org"}
    agent = demo_browser(sandbox.issuer)
    try:
        code, _ = agent.code("ada-admin", "ada-pass-5678")
        assert code
    finally:
        agent.close()
    assert "ada-admin" in {u["username"] for u in admin.get("/users").json()["users"]}
    assert admin.delete("/users/ada-admin").status_code == 204
    assert admin.delete("/users/ada-admin").status_code == 404


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({}, "client_id is required"),
        ({"client_id": "x", "redirect_uris": ["http://evil.example/cb"]}, "must use https"),
        ({"client_id": "x", "grants": ["password"]}, "grants are from"),
        ({"client_id": "x"}, "needs at least one redirect_uri"),
        ({"client_id": 5}, "client_id must be a str"),
    ],
)
def test_client_validation(admin: httpx.Client, body: dict[str, object], message: str) -> None:
    answer = admin.post("/clients", json=body)
    assert answer.status_code == 400
    assert message in answer.json()["error_description"]


def test_clients_and_queued_claims(sandbox: Sandbox, admin: httpx.Client) -> None:
    made = admin.post(
        "/clients",
        json={"client_id": "admin-made", "redirect_uris": [REDIRECT], "scopes": "openid profile"},
    )
    assert made.status_code == 201
    secret = made.json()["client_secret"]
    queued = admin.post("/claims", json={"username": "alice", "claims": {"role": "auditor"}})
    assert queued.json() == {"queued": {"role": "auditor"}}
    agent = demo_browser(sandbox.issuer)
    try:
        code, auth = agent.code(
            "alice", sandbox.password("alice"), client_id="admin-made", scope="openid profile"
        )
    finally:
        agent.close()
    tokens = sandbox.redeem(code, auth.verifier, client=("admin-made", secret)).json()
    from joserfc import jwt
    from joserfc.jwk import KeySet

    keys = KeySet.import_key_set(httpx.get(sandbox.issuer + "/jwks.json").json())
    assert jwt.decode(tokens["id_token"], keys).claims["role"] == "auditor"
    assert admin.delete("/clients/admin-made").status_code == 204
    reserved = admin.post("/claims", json={"username": "alice", "claims": {"iss": "x"}})
    assert reserved.status_code == 400


def test_faults(sandbox: Sandbox, admin: httpx.Client) -> None:
    armed = admin.post("/faults", json={"path": "/jwks.json", "count": 2, "status": 503})
    assert armed.status_code == 200
    first = httpx.get(sandbox.issuer + "/jwks.json")
    second = httpx.get(sandbox.issuer + "/jwks.json")
    third = httpx.get(sandbox.issuer + "/jwks.json")
    assert [first.status_code, second.status_code, third.status_code] == [503, 503, 200]
    assert first.json()["error"] == "temporarily_unavailable"
    admin.post("/faults", json={"path": "/jwks.json", "malformed": True})
    assert httpx.get(sandbox.issuer + "/jwks.json").text == "{not json"
    admin.post("/faults", json={"path": "/jwks.json", "delay": 0.3})
    started = time.monotonic()
    httpx.get(sandbox.issuer + "/jwks.json")
    assert time.monotonic() - started >= 0.3
    assert admin.post("/faults", json={"path": "/admin/users"}).status_code == 400


def test_clock_makes_codes_expire(sandbox: Sandbox, admin: httpx.Client) -> None:
    agent = demo_browser(sandbox.issuer)
    try:
        code, auth = agent.code("alice", sandbox.password("alice"))
    finally:
        agent.close()
    moved = admin.post("/clock", json={"advance": 61})
    assert moved.status_code == 200
    assert sandbox.redeem(code, auth.verifier).json()["error"] == "invalid_grant"
    assert admin.post("/clock", json={"advance": -5}).status_code == 400


def test_key_rotation_keeps_the_old_key_published(sandbox: Sandbox, admin: httpx.Client) -> None:
    before = {k["kid"] for k in httpx.get(sandbox.issuer + "/jwks.json").json()["keys"]}
    rotated = admin.post("/keys/rotate").json()
    after = {k["kid"] for k in httpx.get(sandbox.issuer + "/jwks.json").json()["keys"]}
    assert before < after
    assert set(rotated["signing"].values()) == after - before


def test_request_log_and_openapi(sandbox: Sandbox, admin: httpx.Client) -> None:
    httpx.get(sandbox.issuer + "/.well-known/openid-configuration")
    log = admin.get("/requests").json()["requests"]
    assert any(r["path"] == "/.well-known/openid-configuration" and r["status"] == 200 for r in log)
    spec = httpx.get(sandbox.issuer + "/admin/openapi.json").json()
    assert spec["openapi"] == "3.1.0"
    assert "/admin/faults" in spec["paths"]


def test_flows_over_the_admin_api(sandbox: Sandbox, admin: httpx.Client) -> None:
    agent = demo_browser(sandbox.issuer)
    try:
        agent.code("alice", sandbox.password("alice"))
    finally:
        agent.close()
    listed = admin.get("/flows", params={"client_id": "photo-printer", "limit": 5})
    assert listed.status_code == 200
    assert listed.headers["cache-control"] == "no-store"
    newest = listed.json()["flows"][0]
    assert newest["client_id"] == "photo-printer"
    assert newest["username"] == "alice"
    assert "user_id" not in newest
    one = admin.get(f"/flows/{newest['id']}")
    assert one.status_code == 200
    assert one.json()["flow"] == newest
    events = one.json()["events"]
    assert [e["step"] for e in events][:2] == ["authorization_request", "login"]
    login = events[1]
    assert (login["sender"], login["receiver"], login["carried_password"]) == (
        "browser",
        "authorization_server",
        True,
    )
    assert sandbox.password("alice") not in one.text
    assert admin.get("/flows", params={"client_id": "nobody-here"}).json() == {"flows": []}


@pytest.mark.parametrize(
    ("path", "status", "description"),
    [
        ("/flows?limit=0", 400, "limit is a whole number from 1 to 1000"),
        ("/flows?limit=x", 400, "limit is a whole number from 1 to 1000"),
        ("/flows/0123456789abcdef", 404, "no flow '0123456789abcdef'; it may have been pruned"),
        ("/flows/not-a-flow-id", 404, "no flow 'not-a-flow-id'; it may have been pruned"),
    ],
)
def test_flows_refusals(admin: httpx.Client, path: str, status: int, description: str) -> None:
    answer = admin.get(path)
    assert answer.status_code == status
    assert answer.json()["error_description"] == description


def test_flows_need_the_admin_token(sandbox: Sandbox) -> None:
    answer = httpx.get(sandbox.issuer + "/admin/flows")
    assert answer.status_code == 401
    assert answer.headers["www-authenticate"] == 'Bearer realm="valetkey-admin"'

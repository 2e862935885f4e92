"""Issue 15's low store items: a NUL in credentials, reused user ids, tenant database paths."""

from __future__ import annotations

from pathlib import Path

import httpx

from tests.support.sandbox import SECRETS, STARTED, Sandbox, demo_browser, start_sandbox


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


def test_a_dot_in_the_folder_keeps_the_tenant_database_in_it(tmp_path: Path) -> None:
    folder = tmp_path / "a.b"
    server = start_sandbox(tmp_path / "data", "--tenant", "acme", db=f"sqlite:///{folder}/vk")
    try:
        tenant = httpx.get(server.url + "/tenants/acme/.well-known/openid-configuration")
        assert tenant.status_code == 200
    finally:
        server.stop()
    assert (folder / "vk-acme").is_file()
    assert not (tmp_path / "a-acme.b").exists()


def test_an_in_memory_database_gives_in_memory_tenants(tmp_path: Path) -> None:
    stray = Path.cwd() / ":memory:-acme"
    assert not stray.exists()
    server = start_sandbox(tmp_path / "data", "--tenant", "acme", db="sqlite:///:memory:")
    try:
        base = server.url + "/tenants/acme"
        assert httpx.get(base + "/.well-known/openid-configuration").json()["issuer"] == base
    finally:
        server.stop()
        STARTED.remove("sqlite:///:memory:")  # gone with its process: nothing to scan
    assert not stray.exists()
    assert sorted(p.name for p in (tmp_path / "data").iterdir() if "memory" in p.name) == []


def test_a_deleted_users_code_never_speaks_for_the_next_user(sandbox: Sandbox) -> None:
    admin = httpx.Client(
        base_url=sandbox.issuer + "/admin",
        headers={"authorization": f"Bearer {sandbox.admin_token}"},
    )
    SECRETS.add("first-pass-123")
    assert (
        admin.post("/users", json={"username": "leaver", "password": "first-pass-123"}).status_code
        == 201
    )
    leaver = sandbox.store().user_by_name("leaver")
    assert leaver is not None
    agent = demo_browser(sandbox.issuer)
    code, auth = agent.code("leaver", "first-pass-123")
    agent.close()
    assert admin.delete("/users/leaver").status_code == 204
    assert (
        admin.post("/users", json={"username": "joiner", "password": "first-pass-123"}).status_code
        == 201
    )
    joiner = sandbox.store().user_by_name("joiner")
    assert joiner is not None
    assert joiner.id > leaver.id  # never the deleted user's id
    redeemed = sandbox.redeem(code, auth.verifier)
    assert redeemed.status_code == 400
    assert redeemed.json()["error"] == "invalid_grant"
    admin.close()

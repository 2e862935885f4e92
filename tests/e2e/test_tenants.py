"""Several issuers in one process: /tenants/NAME, each with its own keys, users, clients."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from tests.support.sandbox import REDIRECT, Sandbox, demo_browser, start_sandbox
from valetkey.useragent.agent import UserAgent


@pytest.fixture(scope="module")
def hosting(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sandbox]:
    running = start_sandbox(
        tmp_path_factory.mktemp("tenants"), "--tenant", "acme", "--tenant", "beta"
    )
    yield running
    running.stop()


def _admin(sandbox: Sandbox, tenant: str) -> httpx.Client:
    return httpx.Client(
        base_url=f"{sandbox.issuer}/tenants/{tenant}/admin",
        timeout=10,
        headers={"authorization": f"Bearer {sandbox.admin_token}"},
    )


def test_each_tenant_is_an_issuer_of_its_own(hosting: Sandbox) -> None:
    root = httpx.get(hosting.issuer + "/.well-known/openid-configuration").json()
    acme = httpx.get(hosting.issuer + "/tenants/acme/.well-known/openid-configuration").json()
    assert acme["issuer"] == hosting.issuer + "/tenants/acme"
    assert acme["token_endpoint"] == hosting.issuer + "/tenants/acme/token"
    root_keys = {k["kid"] for k in httpx.get(root["jwks_uri"]).json()["keys"]}
    acme_keys = {k["kid"] for k in httpx.get(acme["jwks_uri"]).json()["keys"]}
    assert root_keys.isdisjoint(acme_keys)
    assert f"Tenant:     {hosting.issuer}/tenants/beta" in hosting.output()


def test_a_flow_in_a_tenant(hosting: Sandbox) -> None:
    admin = _admin(hosting, "acme")
    admin.post(
        "/users",
        json={"username": "wile", "password": "wile-password-1", "claims": {"name": "Wile E."}},
    ).raise_for_status()
    made = admin.post(
        "/clients",
        json={
            "client_id": "acme-app",
            "redirect_uris": [REDIRECT],
            "scopes": "openid profile photos.read",
        },
    )
    secret = made.json()["client_secret"]
    issuer = hosting.issuer + "/tenants/acme"
    auth = demo_browser(issuer).request_params(client_id="acme-app")
    url = f"{issuer}/authorize?{httpx.QueryParams(auth.params)}"
    first = httpx.get(url)
    assert first.headers["location"].startswith("/tenants/acme/login?request=")
    assert "Path=/tenants/acme" in first.headers["set-cookie"]
    browser = UserAgent("wile", "wile-password-1")
    try:
        callback = browser.navigate(url, stop_at=lambda u: u.startswith(REDIRECT)).stopped_at
    finally:
        browser.close()
    assert callback is not None
    query = dict(httpx.URL(callback).params)
    assert query["iss"] == issuer
    tokens = httpx.post(
        issuer + "/token",
        auth=("acme-app", secret),
        data={
            "grant_type": "authorization_code",
            "code": query["code"],
            "redirect_uri": REDIRECT,
            "code_verifier": auth.verifier,
        },
    )
    assert tokens.status_code == 200, tokens.text
    access = tokens.json()["access_token"]
    headers = {"authorization": f"Bearer {access}"}
    assert httpx.get(issuer + "/userinfo", headers=headers).json()["name"] == "Wile E."
    assert httpx.get(hosting.issuer + "/userinfo", headers=headers).status_code == 401
    assert httpx.get(hosting.issuer + "/tenants/beta/userinfo", headers=headers).status_code == 401


def test_tenants_do_not_share_users_or_clients(hosting: Sandbox) -> None:
    beta = {u["username"] for u in _admin(hosting, "beta").get("/users").json()["users"]}
    assert beta == set()
    agent = demo_browser(hosting.issuer + "/tenants/beta")
    try:
        page = agent.authorize(agent.request_params().params)  # photo-printer is root's
    finally:
        agent.close()
    assert page.status_code == 400
    assert "not registered" in page.text


def test_bad_tenant_name_is_refused(tmp_path_factory: pytest.TempPathFactory) -> None:
    import subprocess
    import sys

    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "valetkey",
            "serve",
            "--port",
            "0",
            "--tenant",
            "Bad Name!",
            "--data-dir",
            str(tmp_path_factory.mktemp("bad")),
        ],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert result.returncode == 2
    assert "tenant names are 1-40 of a-z, 0-9 and -" in result.stderr


@pytest.mark.postgres
def test_tenants_on_postgresql_live_in_schemas_of_their_own(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    import psycopg

    from tests.support.postgres import fresh_database

    with fresh_database() as url:
        running = start_sandbox(tmp_path_factory.mktemp("pg-tenants"), "--tenant", "acme", db=url)
        try:
            admin = _admin(running, "acme")
            assert (
                admin.post(
                    "/users", json={"username": "pg-user", "password": "pg-password-1"}
                ).status_code
                == 201
            )
            with psycopg.connect(url) as conn:
                schemas = {
                    r[0]
                    for r in conn.execute("SELECT schema_name FROM information_schema.schemata")
                }
                users = conn.execute("SELECT username FROM tenant_acme.users").fetchall()
            assert "tenant_acme" in schemas
            assert users == [("pg-user",)]
        finally:
            running.stop()

"""Registered token-endpoint auth methods and response types: set by `valetkey clients add`
and the admin API, shown by both, kept by the migration, and enforced by the sandbox over
real HTTP (RFC 7591 §2; RFC 6749 §2.3, §4.1.2.1, §5.2)."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qsl

import httpx
import pytest
from authlib.integrations.base_client.errors import OAuthError
from authlib.integrations.httpx_client import OAuth2Client

from tests.e2e.test_cli import vk as cli
from tests.support.old_database import database_at
from tests.support.sandbox import REDIRECT, Sandbox, demo_browser, start_sandbox
from valetkey.useragent.authorization import query_of

BASIC_CHALLENGE = 'Basic realm="valetkey", charset="UTF-8"'
SECRET = "registration-test-secret-0123456789"
CC = ("client_credentials",)


def vk(*args: str) -> subprocess.CompletedProcess[str]:
    return cli(*args, env={**os.environ, "COLUMNS": "200"})


# -- the command line ------------------------------------------------------------------------


def test_clients_add_and_list_show_the_method_and_response_types(tmp_path: Path) -> None:
    db = ["--data-dir", str(tmp_path)]
    uri = ["--redirect-uri", "http://127.0.0.1:9999/cb"]
    poster = vk("clients", "add", "poster", "--auth-method", "client_secret_post", *uri, *db)
    assert poster.returncode == 0, poster.stderr
    assert poster.stdout.splitlines()[0] == (
        "added confidential client poster (client_secret_post; response types: code)"
    )
    legacy = vk("clients", "add", "legacy", "--response-type", "id_token token", *uri, *db)
    assert legacy.stdout.splitlines()[0] == (
        "added confidential client legacy (client_secret_basic; response types: id_token token)"
    )
    spa = vk("clients", "add", "spa", "--public", *uri, *db)
    assert spa.stdout == "added public client spa (none; response types: code)\n"
    rows = {
        cells[0]: cells[1:]
        for line in vk("clients", "list", *db).stdout.splitlines()
        if len(cells := [c.strip() for c in line.strip("│ ").split("│")]) == 8
    }
    assert rows["poster"] == [
        "confidential",
        "admin",
        "client_secret_post",
        "http://127.0.0.1:9999/cb",
        "email offline_access openid photos.read profile",
        "authorization_code refresh_token",
        "code",
    ]
    assert rows["legacy"][2] == "client_secret_basic"
    assert rows["legacy"][5:] == ["implicit", "id_token token"]
    assert rows["spa"][:3] == ["public", "admin", "none"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["--auth-method", "private_key_jwt"],
            "Error: Invalid value for '--auth-method': 'private_key_jwt' is not one of "
            "'client_secret_basic', 'client_secret_post', 'none'.",
        ),
        (
            ["--response-type", "code token"],
            "Error: Invalid value for '--response-type': 'code token' is not one of 'code', "
            "'token', 'id_token', 'id_token token'.",
        ),
        (
            ["--response-type", "token", "--grant", "authorization_code"],
            "Error: --response-type 'token' needs the implicit grant (RFC 7591 §2.1)",
        ),
        (
            ["--public", "--auth-method", "client_secret_basic"],
            "Error: --auth-method none is for public clients (--public), and a public client "
            "has no other method",
        ),
        (
            ["--auth-method", "none"],
            "Error: --auth-method none is for public clients (--public), and a public client "
            "has no other method",
        ),
        (
            ["--secret", "too-short"],
            "Error: --secret has 16 to 1024 characters; for a public client use --public",
        ),
    ],
)
def test_clients_add_refuses_with_a_usage_error(
    tmp_path: Path, args: list[str], message: str
) -> None:
    result = vk(
        "clients",
        "add",
        "x",
        "--redirect-uri",
        "https://a.example/cb",
        *args,
        "--data-dir",
        str(tmp_path),
    )
    assert result.returncode == 2
    assert result.stderr.splitlines()[-1] == message
    assert result.stdout == ""


def test_probe_help_names_every_family() -> None:
    text = " ".join(vk("probe", "--help").stdout.split())
    assert (
        "Black-box checks of a running authorization server (probe server: AS checks), "
        "client app (probe client: LC checks) or protected MCP server (probe mcp-server: MS "
        "checks)."
    ) in text
    top = vk("--help").stdout
    line = next(x for x in top.splitlines() if x.strip().startswith("probe "))
    assert " ".join(line.split()) == (
        "probe Attack a live authorization server, client app or MCP server."
    )


# -- the admin API ---------------------------------------------------------------------------


def test_admin_api_registers_and_shows_the_method(sandbox: Sandbox, admin: httpx.Client) -> None:
    made = admin.post(
        "/clients",
        json={
            "client_id": "admin-poster",
            "grants": ["client_credentials"],
            "scopes": "photos.read",
            "token_endpoint_auth_method": "client_secret_post",
            "secret": SECRET,
        },
    )
    assert made.status_code == 201, made.text
    view = {k: v for k, v in made.json().items() if k != "client_secret"}
    assert view == {
        "client_id": "admin-poster",
        "public": False,
        "name": "admin-poster",
        "redirect_uris": [],
        "scopes": ["photos.read"],
        "grants": ["client_credentials"],
        "token_endpoint_auth_method": "client_secret_post",
        "response_types": [],
        "id_token_alg": "RS256",
        "application_type": "web",
        "origin": "admin",
    }
    listed = {c["client_id"]: c for c in admin.get("/clients").json()["clients"]}
    assert listed["admin-poster"] == view
    assert listed["photo-printer"]["token_endpoint_auth_method"] == "client_secret_basic"
    assert listed["photo-printer"]["response_types"] == ["code"]
    assert listed["photo-printer-spa"]["token_endpoint_auth_method"] == "none"
    data = {"grant_type": "client_credentials"}
    posted = httpx.post(
        sandbox.issuer + "/token",
        data={**data, "client_id": "admin-poster", "client_secret": SECRET},
    )
    assert posted.status_code == 200, posted.text
    basic = httpx.post(sandbox.issuer + "/token", data=data, auth=("admin-poster", SECRET))
    assert (basic.status_code, basic.json()["error"]) == (401, "invalid_client")
    assert admin.delete("/clients/admin-poster").status_code == 204


@pytest.mark.parametrize(
    ("body", "registration_error", "description"),
    [
        (
            {"token_endpoint_auth_method": "private_key_jwt"},
            "invalid_client_metadata",
            "token_endpoint_auth_method is one of ['client_secret_basic', "
            "'client_secret_post', 'none']",
        ),
        (
            {"response_types": ["token"], "grants": ["authorization_code"]},
            "invalid_client_metadata",
            "response_types 'token' needs the implicit grant (RFC 7591 §2.1)",
        ),
        (
            {"public": True, "token_endpoint_auth_method": "client_secret_post"},
            "invalid_client_metadata",
            'token_endpoint_auth_method none is for public clients ("public": true), and a '
            "public client has no other method",
        ),
        (
            {"redirect_uris": ["https://a.example/cb#frag"]},
            "invalid_redirect_uri",
            "redirect_uri 'https://a.example/cb#frag' must not contain a fragment "
            "(RFC 6749 §3.1.2)",
        ),
    ],
)
def test_admin_api_refuses_with_the_rfc7591_error(
    admin: httpx.Client, body: dict[str, object], registration_error: str, description: str
) -> None:
    answer = admin.post("/clients", json={"client_id": "bad", "redirect_uris": [REDIRECT], **body})
    assert answer.status_code == 400
    assert answer.json() == {
        "error": "invalid_request",
        "error_description": description,
        "registration_error": registration_error,
    }


def test_admin_api_checks_the_json_types(admin: httpx.Client) -> None:
    body = {"client_id": "bad", "redirect_uris": [REDIRECT]}
    wrong = admin.post("/clients", json={**body, "token_endpoint_auth_method": 5})
    assert (wrong.status_code, wrong.json()["error_description"]) == (
        400,
        "token_endpoint_auth_method must be a str",
    )
    listed = admin.post("/clients", json={**body, "response_types": "code"})
    assert listed.json()["error_description"] == "response_types must be a JSON list"


def test_openapi_describes_the_new_fields(sandbox: Sandbox) -> None:
    document = httpx.get(sandbox.issuer + "/admin/openapi.json").json()
    fields = document["components"]["schemas"]["NewClient"]["properties"]
    assert fields["token_endpoint_auth_method"]["enum"] == [
        "client_secret_basic",
        "client_secret_post",
        "none",
    ]
    assert fields["response_types"]["items"]["enum"] == [
        "code",
        "token",
        "id_token",
        "id_token token",
    ]


# -- enforcement at the token endpoint -------------------------------------------------------


@pytest.fixture
def registered(sandbox: Sandbox) -> Sandbox:
    if sandbox.store().client("basic-app") is None:
        sandbox.add_client("basic-app", SECRET, (), "photos.read", CC)
        sandbox.add_client(
            "post-app", SECRET, (), "photos.read", CC, auth_method="client_secret_post"
        )
        sandbox.add_client("none-app", None, (REDIRECT,), "openid")
    return sandbox


def _post(sandbox: Sandbox, client_id: str, how: str, secret: str = SECRET) -> httpx.Response:
    data = {"grant_type": "client_credentials" if client_id != "none-app" else "authorization_code"}
    if client_id == "none-app":
        data.update(code="not-a-code", redirect_uri=REDIRECT, code_verifier="v" * 43)
    if how == "basic":
        return httpx.post(sandbox.issuer + "/token", data=data, auth=(client_id, secret))
    data["client_id"] = client_id
    if how == "post":
        data["client_secret"] = secret
    return httpx.post(sandbox.issuer + "/token", data=data)


@pytest.mark.parametrize(
    ("client_id", "how", "status", "description"),
    [
        ("basic-app", "basic", 200, None),
        (
            "basic-app",
            "post",
            401,
            "this client is registered for client_secret_basic, not client_secret_post; "
            "authenticate with client_secret_basic (RFC 7591 §2)",
        ),
        ("basic-app", "none", 401, "client authentication failed"),
        ("post-app", "post", 200, None),
        (
            "post-app",
            "basic",
            401,
            "this client is registered for client_secret_post, not client_secret_basic; "
            "authenticate with client_secret_post (RFC 7591 §2)",
        ),
        ("post-app", "none", 401, "client authentication failed"),
        ("none-app", "none", 400, "the authorization code is invalid, expired or already used"),
        ("none-app", "basic", 401, "this public client has no secret; send client_id only"),
        ("none-app", "post", 401, "this public client has no secret; send client_id only"),
    ],
)
def test_each_method_right_and_wrong(
    registered: Sandbox, client_id: str, how: str, status: int, description: str | None
) -> None:
    answer = _post(registered, client_id, how)
    assert answer.status_code == status, answer.text
    if description is None:
        assert answer.json()["token_type"] == "Bearer"
        return
    assert answer.json()["error_description"] == description
    if status == 401:
        assert answer.json()["error"] == "invalid_client"
        assert answer.headers["www-authenticate"] == BASIC_CHALLENGE


def test_a_wrong_secret_is_not_told_the_registered_method(registered: Sandbox) -> None:
    answer = _post(registered, "post-app", "basic", secret="wrong-secret-0123456789")
    assert answer.json()["error_description"] == "client authentication failed"


def test_revocation_enforces_the_method_too(registered: Sandbox) -> None:
    token = _post(registered, "post-app", "post").json()["access_token"]
    url = registered.issuer + "/revoke"
    basic = httpx.post(url, data={"token": token}, auth=("post-app", SECRET))
    assert (basic.status_code, basic.json()["error"]) == (401, "invalid_client")
    posted = httpx.post(
        url, data={"token": token, "client_id": "post-app", "client_secret": SECRET}
    )
    assert posted.status_code == 200


@pytest.mark.parametrize(
    ("client_id", "method", "works"),
    [
        ("basic-app", "client_secret_basic", True),
        ("basic-app", "client_secret_post", False),
        ("post-app", "client_secret_post", True),
        ("post-app", "client_secret_basic", False),
    ],
)
def test_authlib_as_the_client(
    registered: Sandbox, client_id: str, method: str, works: bool
) -> None:
    client = OAuth2Client(
        client_id=client_id, client_secret=SECRET, token_endpoint_auth_method=method, timeout=10
    )
    with client:
        if works:
            token = client.fetch_token(
                registered.issuer + "/token", grant_type="client_credentials"
            )
            assert (token["token_type"], token["scope"]) == ("Bearer", "photos.read")
            return
        with pytest.raises(OAuthError) as raised:
            client.fetch_token(registered.issuer + "/token", grant_type="client_credentials")
    assert raised.value.error == "invalid_client"


def test_discovery_lists_exactly_the_registrable_methods(sandbox: Sandbox) -> None:
    meta = httpx.get(sandbox.issuer + "/.well-known/openid-configuration").json()
    assert meta["token_endpoint_auth_methods_supported"] == [
        "client_secret_basic",
        "client_secret_post",
        "none",
    ]


# -- enforcement at the authorization endpoint -----------------------------------------------


def test_an_unregistered_response_type_is_unauthorized_client(registered: Sandbox) -> None:
    """RFC 6749 §4.1.2.1: told to the validated redirect URI, with state and iss."""
    if registered.store().client("implicit-only") is None:
        registered.add_client(
            "implicit-only", SECRET, (REDIRECT,), "openid", ("implicit",), response_types=("token",)
        )
    agent = demo_browser(registered.issuer)
    try:
        auth = agent.request_params(client_id="implicit-only", scope="openid")
        answer = agent.authorize(auth.params)
        stray = agent.request_params(
            client_id="implicit-only", scope="openid", redirect_uri="https://evil.example/cb"
        )
        page = agent.authorize(stray.params)
    finally:
        agent.close()
    assert answer.status_code == 302
    sent = query_of(answer.headers["location"])
    assert answer.headers["location"].startswith(REDIRECT + "?")
    assert sent == {
        "error": "unauthorized_client",
        "error_description": "this client is not registered for response_type 'code'; "
        "register it with --response-type 'code'",
        "state": auth.state,
        "iss": registered.issuer,
    }
    assert page.status_code == 400
    assert "location" not in page.headers


@pytest.fixture(scope="module")
def implicit_lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sandbox]:
    running = start_sandbox(tmp_path_factory.mktemp("implicit-lab"), "--lab", "implicit")
    yield running
    running.stop()


def test_the_implicit_lab_serves_only_clients_registered_for_it(implicit_lab: Sandbox) -> None:
    implicit_lab.add_client("code-only", SECRET, (REDIRECT,), "openid photos.read")
    agent = demo_browser(implicit_lab.issuer)
    try:
        auth = agent.request_params(
            client_id="code-only",
            scope="openid photos.read",
            response_type="token",
            code_challenge=None,
            code_challenge_method=None,
        )
        refused = agent.authorize(auth.params)
        demo = agent.request_params(
            response_type="token", code_challenge=None, code_challenge_method=None
        )
        served = agent.to_callback(demo.params, "alice", implicit_lab.password("alice"))
    finally:
        agent.close()
    # a token response type's errors travel in the fragment (Multiple Response Types §5)
    location = refused.headers["location"]
    assert location.startswith(REDIRECT + "#")
    assert dict(parse_qsl(location.split("#", 1)[1]))["error"] == "unauthorized_client"
    assert served.startswith(REDIRECT + "#access_token=")  # the demo client registered it


# -- an old database file --------------------------------------------------------------------


OLD_ROWS = (
    # client_id, secret hash, grant types as stored before revision 0004
    ("old-confidential", "set", '["authorization_code", "refresh_token"]'),
    ("old-public", None, '["authorization_code"]'),
    ("old-batch", "set", '["client_credentials"]'),
)


def _database_at_0003(url: str) -> None:
    """A database as valetkey left it before revision 0004, with clients in it."""
    from valetkey.provider.tokens import digest

    database_at(
        url,
        "0003",
        "INSERT INTO clients (client_id, secret_hash, name, redirect_uris,"
        " post_logout_redirect_uris, scopes, grant_types, id_token_alg, created_at)"
        " VALUES (:id, :hash, :id, :uris, '[]', 'openid photos.read', :grants, 'RS256', 0)",
        [
            {
                "id": client_id,
                "hash": secret_hash and digest(SECRET),
                "uris": f'["{REDIRECT}"]',
                "grants": grants,
            }
            for client_id, secret_hash, grants in OLD_ROWS
        ],
    )


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def old_database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'old.db'}"
        _database_at_0003(url)
        yield url
        return
    from tests.support.postgres import fresh_database

    with fresh_database() as url:
        _database_at_0003(url)
        yield url


def test_an_old_database_migrates_to_values_that_keep_its_clients_working(
    old_database: str, tmp_path: Path
) -> None:
    from valetkey.provider.settings import build_settings
    from valetkey.provider.store.engine import HEAD_REVISION, current_revision
    from valetkey.provider.store.open import open_store

    store = open_store(build_settings({"db": old_database}, environ={}))
    try:
        assert current_revision(store.database) == HEAD_REVISION
        # revision 0006: every old row was registered by an admin, for a web app
        assert {(c.origin, c.application_type) for c in store.clients()} == {("admin", "web")}
        migrated = {
            c.client_id: (c.token_endpoint_auth_method, sorted(c.response_types))
            for c in store.clients()
        }
    finally:
        store.close()
    assert migrated == {
        "old-batch": ("client_secret_basic", []),
        "old-confidential": ("client_secret_basic", ["code"]),
        "old-public": ("none", ["code"]),
    }
    sandbox = start_sandbox(tmp_path / "data", db=old_database)
    try:
        data = {"grant_type": "client_credentials"}
        basic = httpx.post(sandbox.issuer + "/token", data=data, auth=("old-batch", SECRET))
        agent = demo_browser(sandbox.issuer)
        try:
            # no users in the old file: the sandbox seeded the demo ones at start
            code, auth = agent.code(
                "alice", sandbox.password("alice"), client_id="old-public", scope="openid"
            )
        finally:
            agent.close()
        public = httpx.post(
            sandbox.issuer + "/token",
            data={
                "grant_type": "authorization_code",
                "code": code,
                "redirect_uri": REDIRECT,
                "code_verifier": auth.verifier,
                "client_id": "old-public",
            },
        )
    finally:
        sandbox.stop()
    assert basic.status_code == 200, basic.text
    assert public.status_code == 200, public.text

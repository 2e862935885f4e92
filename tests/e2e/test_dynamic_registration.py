"""RFC 7591 dynamic registration at /register, over real HTTP: every malformed registration
gets its RFC 7591 §3.2.2 error and stores nothing; a registered client runs the whole
authorization-code + PKCE flow with Authlib; `--no-registration` and the cap."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import httpx
import pytest
from authlib.integrations.httpx_client import OAuth2Client

from tests.e2e.test_cli import vk as cli
from tests.support.old_database import database_at
from tests.support.sandbox import SECRETS, Sandbox, start_sandbox
from valetkey.useragent.agent import UserAgent

CALLBACK = "http://127.0.0.1:8601/callback"
GOOD: dict[str, Any] = {"redirect_uris": [CALLBACK], "client_name": "Registered MCP client"}


def _register(
    sandbox: Sandbox, body: Any, content_type: str = "application/json"
) -> httpx.Response:
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    return httpx.post(
        sandbox.issuer + "/register", content=raw, headers={"content-type": content_type}
    )


def _client_ids(admin: httpx.Client) -> set[str]:
    return {c["client_id"] for c in admin.get("/clients").json()["clients"]}


BAD_URI = "invalid_redirect_uri"
BAD_META = "invalid_client_metadata"
BAD_INPUT: list[tuple[str, Any, str, str]] = [
    ("form body", b"redirect_uris=x", "application/x-www-form-urlencoded", BAD_META),
    ("no content type", b'{"redirect_uris": []}', "", BAD_META),
    ("text that is not JSON", b"{not json", "application/json", BAD_META),
    ("a JSON array", b"[1, 2]", "application/json", BAD_META),
    ("a JSON string", b'"hello"', "application/json", BAD_META),
    ("NaN", b'{"redirect_uris": NaN}', "application/json", BAD_META),
    ("body over 16 KiB", {**GOOD, "contacts": ["a" * 1000] * 17}, "application/json", BAD_META),
    ("redirect_uris not a list", {"redirect_uris": CALLBACK}, "application/json", BAD_META),
    ("redirect_uris of numbers", {"redirect_uris": [1]}, "application/json", BAD_META),
    ("too many redirect URIs", {"redirect_uris": [CALLBACK] * 21}, "application/json", BAD_META),
    ("no redirect URI", {"client_name": "x"}, "application/json", BAD_META),
    ("javascript: URI", {"redirect_uris": ["javascript:alert(1)"]}, "application/json", BAD_URI),
    ("data: URI", {"redirect_uris": ["data:text/html,hi"]}, "application/json", BAD_URI),
    (
        "plain http to a host",
        {"redirect_uris": ["http://app.example/cb"]},
        "application/json",
        BAD_URI,
    ),
    ("userinfo", {"redirect_uris": ["https://u@app.example/cb"]}, "application/json", BAD_URI),
    ("fragment", {"redirect_uris": ["https://app.example/cb#x"]}, "application/json", BAD_URI),
    ("wildcard", {"redirect_uris": ["https://*.app.example/cb"]}, "application/json", BAD_URI),
    ("relative URI", {"redirect_uris": ["/cb"]}, "application/json", BAD_URI),
    (
        "uri too long",
        {"redirect_uris": ["https://a.example/" + "a" * 2000]},
        "application/json",
        BAD_META,
    ),
    (
        "private-use scheme for a web app",
        {"redirect_uris": ["com.example.app:/cb"], "token_endpoint_auth_method": "none"},
        "application/json",
        BAD_URI,
    ),
    (
        "application_type other",
        {**GOOD, "application_type": "desktop"},
        "application/json",
        BAD_META,
    ),
    (
        "auth method unknown",
        {**GOOD, "token_endpoint_auth_method": "private_key_jwt"},
        "application/json",
        BAD_META,
    ),
    (
        "auth method a number",
        {**GOOD, "token_endpoint_auth_method": 3},
        "application/json",
        BAD_META,
    ),
    ("grant unknown", {**GOOD, "grant_types": ["password"]}, "application/json", BAD_META),
    (
        "implicit grant",
        {**GOOD, "grant_types": ["implicit"], "response_types": ["token"]},
        "application/json",
        BAD_META,
    ),
    (
        "response type without its grant",
        {**GOOD, "grant_types": ["client_credentials"], "response_types": ["code"]},
        "application/json",
        BAD_META,
    ),
    (
        "code grant without a response type",
        {**GOOD, "response_types": []},
        "application/json",
        BAD_META,
    ),
    (
        "public client with client_credentials",
        {**GOOD, "token_endpoint_auth_method": "none", "grant_types": ["client_credentials"]},
        "application/json",
        BAD_META,
    ),
    ("client_name with a slash", {**GOOD, "client_name": "a/b"}, "application/json", BAD_META),
    ("client_name too long", {**GOOD, "client_name": "n" * 256}, "application/json", BAD_META),
    ("client_name empty", {**GOOD, "client_name": ""}, "application/json", BAD_META),
    (
        "scope with a control character",
        {**GOOD, "scope": "openid\tx"},
        "application/json",
        BAD_META,
    ),
    (
        "id token alg none",
        {**GOOD, "id_token_signed_response_alg": "none"},
        "application/json",
        BAD_META,
    ),
]


@pytest.mark.parametrize(
    ("body", "content_type", "error"),
    [case[1:] for case in BAD_INPUT],
    ids=[case[0] for case in BAD_INPUT],
)
def test_a_malformed_registration_gets_its_error_and_stores_nothing(
    sandbox: Sandbox, admin: httpx.Client, body: Any, content_type: str, error: str
) -> None:
    before = _client_ids(admin)
    response = _register(sandbox, body, content_type)
    assert response.status_code == 400, response.text
    assert response.headers["content-type"] == "application/json"
    assert response.headers["cache-control"] == "no-store"
    assert response.json()["error"] == error
    assert response.json()["error_description"]
    assert _client_ids(admin) == before


def test_the_wrong_method_is_405_and_every_refusal_is_in_the_check_reference(
    sandbox: Sandbox,
) -> None:
    response = httpx.get(sandbox.issuer + "/register")
    assert response.status_code == 405
    assert response.headers["allow"] == "POST"
    reference = httpx.get(sandbox.issuer + "/inspector/checks").text
    for title in (
        "The registration is a JSON object sent as application/json, of at most 16 KiB",
        "The metadata follows the sandbox&#39;s registration rules",
        "The document&#39;s client_id equals its URL, character for character (RFC 3986 §6.2.1)",
    ):
        assert title in reference


def test_registration_is_advertised(sandbox: Sandbox) -> None:
    for path in ("/.well-known/openid-configuration", "/.well-known/oauth-authorization-server"):
        meta = httpx.get(sandbox.issuer + path).json()
        assert meta["registration_endpoint"] == sandbox.issuer + "/register"
        assert meta["client_id_metadata_document_supported"] is True


def test_a_native_app_registers_a_private_use_scheme(sandbox: Sandbox) -> None:
    body = {
        "redirect_uris": ["com.example.photos:/oauth/cb", "http://[::1]/cb"],
        "application_type": "native",
        "token_endpoint_auth_method": "none",
        "client_name": "Photos for desktop",
        "software_id": "ignored-but-typed",
        "unknown_field": {"is": "ignored"},  # RFC 7591 §2
    }
    response = _register(sandbox, body)
    assert response.status_code == 201, response.text
    data = response.json()
    assert "client_secret" not in data
    assert "client_secret_expires_at" not in data
    assert data["application_type"] == "native"
    assert data["token_endpoint_auth_method"] == "none"
    assert data["redirect_uris"] == body["redirect_uris"]
    assert "unknown_field" not in data


def _authlib(sandbox: Sandbox, registered: dict[str, Any]) -> OAuth2Client:
    return OAuth2Client(
        client_id=registered["client_id"],
        client_secret=registered["client_secret"],
        redirect_uri=CALLBACK,
        scope="openid profile photos.read",
        code_challenge_method="S256",
        timeout=10,
    )


def test_a_registered_client_runs_the_whole_flow_with_authlib(
    sandbox: Sandbox, agent: UserAgent, admin: httpx.Client
) -> None:
    meta = httpx.get(sandbox.issuer + "/.well-known/oauth-authorization-server").json()
    response = _register(sandbox, GOOD)
    assert response.status_code == 201, response.text
    registered = response.json()
    SECRETS.add(registered["client_secret"])
    assert registered["client_id"].startswith("dyn-")
    assert registered["client_secret_expires_at"] == 0  # RFC 7591 §3.2.1
    assert isinstance(registered["client_id_issued_at"], int)
    assert registered["token_endpoint_auth_method"] == "client_secret_basic"  # RFC 7591 §2
    assert registered["grant_types"] == ["authorization_code", "refresh_token"]
    assert registered["response_types"] == ["code"]
    assert registered["client_name"] == "Registered MCP client"
    assert response.headers["cache-control"] == "no-store"

    client = _authlib(sandbox, registered)
    verifier = "dcr-" + "v" * 60
    url, _state = client.create_authorization_url(
        meta["authorization_endpoint"], nonce="nonce-dcr", code_verifier=verifier
    )
    first = agent.http.get(url.removeprefix(sandbox.issuer))
    login = agent.login(first.headers["location"], "alice", sandbox.password("alice"))
    consent_url = login.headers["location"]
    page = agent.http.get(consent_url).text
    assert "Registered MCP client" in page
    assert "registered itself" in page
    callback = agent.consent(consent_url).headers["location"]
    assert callback.startswith(CALLBACK)
    token = client.fetch_token(
        meta["token_endpoint"], authorization_response=callback, code_verifier=verifier
    )
    assert token["token_type"] == "Bearer"
    assert client.get(sandbox.issuer + "/api/photos").json()["owner"] == "alice"

    listed = {c["client_id"]: c for c in admin.get("/clients").json()["clients"]}
    assert listed[registered["client_id"]]["origin"] == "dynamic"
    assert listed["photo-printer"]["origin"] == "admin"
    account = agent.http.get("/account").text
    assert "Registered MCP client" in account
    assert "registered itself" in account


def test_clients_list_marks_a_dynamic_client(sandbox: Sandbox) -> None:
    registered = _register(sandbox, {**GOOD, "token_endpoint_auth_method": "none"}).json()
    env = {**os.environ, "COLUMNS": "250"}
    listing = cli("clients", "list", "--db", sandbox.db, env=env).stdout
    row = next(line for line in listing.splitlines() if registered["client_id"] in line)
    cells = [c.strip() for c in row.strip("│ ").split("│")]
    assert cells[:4] == [registered["client_id"], "public", "itself (dynamic)", "none"]
    demo = next(line for line in listing.splitlines() if "photo-printer-spa" in line)
    assert [c.strip() for c in demo.strip("│ ").split("│")][2] == "admin"


def test_no_registration_is_404_and_not_advertised(tmp_path: Path) -> None:
    sandbox = start_sandbox(tmp_path, "--no-registration")
    try:
        response = _register(sandbox, GOOD)
        assert response.status_code == 404
        assert httpx.get(sandbox.issuer + "/register").status_code == 404
        meta = httpx.get(sandbox.issuer + "/.well-known/openid-configuration").json()
        assert "registration_endpoint" not in meta
        assert meta["client_id_metadata_document_supported"] is True
    finally:
        sandbox.stop()


def test_the_cap_on_self_registered_clients(tmp_path: Path) -> None:
    sandbox = start_sandbox(tmp_path, env={"VALETKEY_MAX_DYNAMIC_CLIENTS": "1"})
    try:
        assert _register(sandbox, {**GOOD, "token_endpoint_auth_method": "none"}).status_code == 201
        refused = _register(sandbox, {**GOOD, "token_endpoint_auth_method": "none"})
        assert refused.status_code == 403
        assert refused.json()["error"] == "access_denied"
        assert "limit" in refused.json()["error_description"]
        still_bad = _register(sandbox, {"redirect_uris": ["javascript:x"]})
        assert still_bad.json()["error"] == BAD_URI  # a malformed one still gets its error
    finally:
        sandbox.stop()


def test_revision_0006_marks_old_rows_admin_and_native_where_a_scheme_says_so(
    tmp_path: Path, store_url: str | None
) -> None:
    from valetkey.provider.settings import build_settings
    from valetkey.provider.store.open import open_store

    url = store_url or f"sqlite:///{tmp_path / 'at-0004.db'}"
    database_at(
        url,
        "0004",
        "INSERT INTO clients (client_id, secret_hash, name, redirect_uris,"
        " post_logout_redirect_uris, scopes, grant_types, id_token_alg, created_at,"
        " token_endpoint_auth_method, response_types) VALUES (:id, NULL, :id, :uris,"
        " '[]', 'openid', '[\"authorization_code\"]', 'RS256', 0, 'none', '[\"code\"]')",
        [
            {"id": "old-web", "uris": json.dumps([CALLBACK])},
            {"id": "old-app", "uris": json.dumps(["com.example.app:/cb"])},
        ],
    )
    store = open_store(build_settings({"db": url, "demo_data": "false"}, environ={}))
    migrated = {c.client_id: (c.origin, c.application_type) for c in store.clients()}
    assert migrated == {"old-web": ("admin", "web"), "old-app": ("admin", "native")}


def test_the_documented_example_registers(sandbox: Sandbox) -> None:
    text = (Path(__file__).parents[2] / "docs" / "sandbox.md").read_text()
    section = text.split("## Dynamic registration (RFC 7591)", 1)[1]
    example = json.loads(section.split("```json", 1)[1].split("```", 1)[0])
    response = _register(sandbox, example)
    assert response.status_code == 201, response.text
    registered = response.json()
    for name, value in example.items():
        assert registered[name] == value, name
    assert registered["client_id"].startswith("dyn-")
    assert "client_secret" not in registered


def test_a_registration_is_drawn_in_the_inspector(sandbox: Sandbox, admin: httpx.Client) -> None:
    registered = _register(sandbox, {**GOOD, "token_endpoint_auth_method": "none"}).json()
    flows = admin.get("/flows", params={"client_id": registered["client_id"]}).json()["flows"]
    assert len(flows) == 1
    flow = admin.get(f"/flows/{flows[0]['id']}").json()
    assert [e["step"] for e in flow["events"]] == ["client_registration"]
    assert [c["result"] for c in flow["events"][0]["checks"]] == ["pass"] * 5
    page = httpx.get(f"{sandbox.issuer}/inspector/flows/{flows[0]['id']}")
    assert page.status_code == 200
    assert "client_registration" in page.text
    assert "The metadata follows the sandbox&#39;s registration rules" in page.text

"""Metadata at every path an MCP client tries (RFC 8414 §3.1 path-insert, OIDC path-insert
and path-append, for the root issuer and a tenant issuer with a path), and CORS on the
endpoints a browser-based client calls, never on /authorize or a page (AS-36)."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from tests.support.sandbox import REDIRECT, Sandbox, start_sandbox

ORIGIN = "https://mcp-client.example"
CORS_HEADERS = {"authorization", "content-type", "dpop", "mcp-protocol-version"}


@pytest.fixture(scope="module")
def hosting(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sandbox]:
    running = start_sandbox(tmp_path_factory.mktemp("well-known"), "--tenant", "acme")
    yield running
    running.stop()


@pytest.mark.parametrize(
    ("path", "issuer_path"),
    [
        ("/.well-known/oauth-authorization-server", ""),
        ("/.well-known/openid-configuration", ""),
        ("/.well-known/oauth-authorization-server/tenants/acme", "/tenants/acme"),  # 8414 §3.1
        ("/.well-known/openid-configuration/tenants/acme", "/tenants/acme"),  # OIDC insert
        ("/tenants/acme/.well-known/openid-configuration", "/tenants/acme"),  # OIDC append
        ("/tenants/acme/.well-known/oauth-authorization-server", "/tenants/acme"),
    ],
)
def test_each_metadata_path_serves_its_issuers_document(
    hosting: Sandbox, path: str, issuer_path: str
) -> None:
    answer = httpx.get(hosting.issuer + path)
    assert answer.status_code == 200
    assert answer.headers["content-type"] == "application/json"
    document = answer.json()
    issuer = hosting.issuer + issuer_path
    assert document["issuer"] == issuer  # RFC 8414 §3.3
    assert document["token_endpoint"] == issuer + "/token"
    assert document["code_challenge_methods_supported"] == ["S256"]


@pytest.mark.parametrize(
    "path",
    [
        "/.well-known/oauth-authorization-server/tenants/nope",
        "/.well-known/openid-configuration/tenants/nope",
        "/tenants/nope/.well-known/openid-configuration",
        "/tenants/nope/.well-known/oauth-authorization-server",
        "/.well-known/oauth-authorization-server/tenants/acme/extra",
        "/.well-known/oauth-authorization-server/jwks.json",
        "/.well-known/unknown-document",
    ],
)
def test_metadata_for_no_issuer_of_ours_is_404_json(hosting: Sandbox, path: str) -> None:
    answer = httpx.get(hosting.issuer + path)
    assert answer.status_code == 404
    assert answer.headers["content-type"] == "application/json"
    assert answer.json()["error"] == "not_found"
    assert "access-control-allow-origin" not in answer.headers


# -- CORS -----------------------------------------------------------------------------------

CORS_CALLS = [
    ("GET", "/.well-known/oauth-authorization-server"),
    ("GET", "/.well-known/openid-configuration"),
    ("GET", "/jwks.json"),
    ("POST", "/token"),
    ("POST", "/revoke"),
    ("POST", "/introspect"),
]


@pytest.mark.parametrize("prefix", ["", "/tenants/acme"])
@pytest.mark.parametrize(("method", "path"), CORS_CALLS)
def test_cors_endpoints_answer_any_origin_without_credentials(
    hosting: Sandbox, prefix: str, method: str, path: str
) -> None:
    answer = httpx.request(method, hosting.issuer + prefix + path, headers={"origin": ORIGIN})
    assert answer.headers["access-control-allow-origin"] == "*"
    assert "access-control-allow-credentials" not in answer.headers
    assert "www-authenticate" in answer.headers["access-control-expose-headers"]


def test_a_token_error_is_readable_cross_origin(hosting: Sandbox) -> None:
    answer = httpx.post(
        hosting.issuer + "/token",
        data={"grant_type": "authorization_code", "code": "x", "client_id": "nobody"},
        headers={"origin": ORIGIN},
    )
    assert answer.status_code == 401
    assert answer.json()["error"] == "invalid_client"
    assert answer.headers["access-control-allow-origin"] == "*"


@pytest.mark.parametrize(
    ("path", "methods"),
    [
        ("/.well-known/oauth-authorization-server", {"GET", "OPTIONS"}),
        ("/.well-known/oauth-authorization-server/tenants/acme", {"GET", "OPTIONS"}),
        ("/tenants/acme/.well-known/openid-configuration", {"GET", "OPTIONS"}),
        ("/jwks.json", {"GET", "OPTIONS"}),
        ("/token", {"GET", "POST", "PUT", "DELETE", "PATCH", "OPTIONS"}),
        ("/revoke", {"POST", "OPTIONS"}),
        ("/introspect", {"POST", "OPTIONS"}),
        ("/tenants/acme/token", {"GET", "POST", "PUT", "DELETE", "PATCH", "OPTIONS"}),
    ],
)
def test_preflight_is_204_with_methods_and_headers(
    hosting: Sandbox, path: str, methods: set[str]
) -> None:
    answer = httpx.options(
        hosting.issuer + path,
        headers={
            "origin": ORIGIN,
            "access-control-request-method": "POST",
            "access-control-request-headers": "authorization, dpop, mcp-protocol-version",
        },
    )
    assert answer.status_code == 204
    assert answer.content == b""
    assert answer.headers["access-control-allow-origin"] == "*"
    allowed = {m.strip() for m in answer.headers["access-control-allow-methods"].split(",")}
    assert allowed == methods
    headers = {h.strip() for h in answer.headers["access-control-allow-headers"].split(",")}
    assert headers == CORS_HEADERS
    assert "access-control-allow-credentials" not in answer.headers


@pytest.mark.parametrize(
    "path",
    [
        f"/authorize?client_id=photo-printer&redirect_uri={REDIRECT}&response_type=code",
        "/tenants/acme/authorize?client_id=x",
        "/",
        "/login?request=x",
        "/consent?request=x",
        "/account",
        "/inspector",
        "/userinfo",
        "/api/photos",
    ],
)
def test_no_cors_on_authorize_or_pages(hosting: Sandbox, path: str) -> None:
    """AS-36: the authorization endpoint (and every page) sends no CORS header."""
    answer = httpx.get(hosting.issuer + path, headers={"origin": ORIGIN})
    assert not [h for h in answer.headers if h.startswith("access-control-")]


@pytest.mark.parametrize("path", ["/authorize", "/login", "/consent", "/account"])
def test_no_preflight_on_authorize_or_pages(hosting: Sandbox, path: str) -> None:
    answer = httpx.options(
        hosting.issuer + path,
        headers={"origin": ORIGIN, "access-control-request-method": "POST"},
    )
    assert answer.status_code == 405
    assert not [h for h in answer.headers if h.startswith("access-control-")]

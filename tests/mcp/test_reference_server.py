"""The reference protected MCP server over HTTP, trusting a real probe-mode sandbox that mints
its tokens: metadata, challenges, audience, step-up, Origin, and its own upstream token."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.support.mcp_server import serving_mcp
from tests.support.sandbox import Sandbox
from valetkey.mcp.guard import App
from valetkey.mcp.jsonrpc import ACCEPT, rpc_body, rpc_result
from valetkey.mcp.server import McpSettings, build_app
from valetkey.mcp.upstream import Credentials

UPSTREAM = ("photo-mcp-ref", "photo-mcp-ref-secret-0123456789abcdef")


@pytest.fixture(scope="module")
def mcp_url(probe_sandbox: Sandbox) -> Iterator[str]:
    client_id, secret = UPSTREAM
    probe_sandbox.add_client(
        client_id, secret, (), scopes="photos.read", grants=("client_credentials",)
    )

    def build(url: str) -> App:
        return build_app(McpSettings(url, probe_sandbox.issuer, Credentials(client_id, secret)))

    with serving_mcp(build) as url:
        yield url


def _token(sandbox: Sandbox, signing: str = "sandbox", **claims: Any) -> str:
    now = int(time.time())
    base = {"iss": sandbox.issuer, "iat": now, "exp": now + 300, "sub": "s", "client_id": "c"}
    body = {"claims": {**base, **claims}, "signing": signing}
    headers = {"authorization": f"Bearer {sandbox.admin_token}"}
    answer = httpx.post(sandbox.issuer + "/probe/mint", json=body, headers=headers)
    return str(answer.json()["access_token"])


def _call(
    url: str, token: str | None, method: str = "tools/list", params: Any = None, **headers: str
) -> httpx.Response:
    sent = {"accept": ACCEPT, **headers}
    if token:
        sent["authorization"] = f"Bearer {token}"
    return httpx.post(url, json=rpc_body(method, params), headers=sent)


def _prm(url: str) -> str:
    return url.replace("/mcp", "/.well-known/oauth-protected-resource/mcp")


@pytest.mark.parametrize(
    "suffix", ["/.well-known/oauth-protected-resource/mcp", "/.well-known/oauth-protected-resource"]
)
def test_metadata_at_both_paths(probe_sandbox: Sandbox, mcp_url: str, suffix: str) -> None:
    """RFC 9728 §3: path-inserted first, then the root; `resource` is the canonical URL."""
    answer = httpx.get(mcp_url.removesuffix("/mcp") + suffix)
    assert answer.status_code == 200
    assert answer.json() == {
        "resource": mcp_url,
        "authorization_servers": [probe_sandbox.issuer],
        "scopes_supported": ["photos.read", "photos.print"],
        "bearer_methods_supported": ["header"],
        "resource_name": "valetkey reference MCP server (photos)",
    }


def test_no_token_is_401_with_resource_metadata_and_scope(mcp_url: str) -> None:
    answer = _call(mcp_url, None)
    assert answer.status_code == 401
    assert answer.headers["www-authenticate"] == (
        f'Bearer resource_metadata="{_prm(mcp_url)}", scope="photos.read"'
    )


@pytest.mark.parametrize(
    ("claims", "signing", "description"),
    [
        (
            {"aud": "https://other.example/mcp", "scope": "photos.read"},
            "sandbox",
            "the token is for another audience",
        ),
        (
            {"iss": "https://evil.example", "scope": "photos.read"},
            "sandbox",
            "the token comes from another issuer",
        ),
        ({"exp": 1, "scope": "photos.read"}, "sandbox", "the token has expired"),
        ({"nbf": 4_000_000_000, "scope": "photos.read"}, "sandbox", "the token is not valid yet"),
        (
            {"scope": "photos.read"},
            "unknown-key",
            "the token's key is not in the authorization server's JWKS",
        ),
        (
            {"scope": "photos.read"},
            "none",
            "only ES256 access-token JWTs (typ at+jwt) are accepted",
        ),
        (
            {"scope": "photos.read"},
            "hs256-public-key",
            "only ES256 access-token JWTs (typ at+jwt) are accepted",
        ),
    ],
)
def test_bad_tokens_are_401_invalid_token(
    probe_sandbox: Sandbox, mcp_url: str, claims: dict[str, Any], signing: str, description: str
) -> None:
    aud = {"aud": mcp_url} if "aud" not in claims else {}
    token = _token(probe_sandbox, signing, **{**aud, **claims})
    answer = _call(mcp_url, token)
    assert answer.status_code == 401
    assert answer.headers["www-authenticate"] == (
        f'Bearer resource_metadata="{_prm(mcp_url)}", error="invalid_token", '
        f'error_description="{description}"'
    )
    assert answer.json() == {"error": "invalid_token", "error_description": description}
    assert token not in answer.text


def test_opaque_token_is_refused_by_introspection(mcp_url: str) -> None:
    answer = _call(mcp_url, "vk_at_not-a-token-this-sandbox-issued")
    assert answer.status_code == 401
    assert answer.json()["error_description"] == (
        "the authorization server says the token is not active"
    )


def test_print_photo_needs_step_up(probe_sandbox: Sandbox, mcp_url: str) -> None:
    """MCP 2025-11-25 scope challenge: 403 insufficient_scope naming the scopes to ask for."""
    token = _token(probe_sandbox, aud=mcp_url, scope="photos.read")
    params = {"name": "print_photo", "arguments": {"photo_id": "p1"}}
    answer = _call(mcp_url, token, "tools/call", params)
    assert answer.status_code == 403
    assert answer.headers["www-authenticate"] == (
        f'Bearer resource_metadata="{_prm(mcp_url)}", error="insufficient_scope", '
        'error_description="this call needs the scope photos.read photos.print", '
        'scope="photos.read photos.print"'
    )
    listed = _call(mcp_url, token, "tools/call", {"name": "list_photos", "arguments": {}})
    assert rpc_result(listed) is not None


def test_tools_use_the_servers_own_token_upstream(probe_sandbox: Sandbox, mcp_url: str) -> None:
    """No passthrough: the photos API sees the server's client-credentials token only."""
    token = _token(probe_sandbox, aud=mcp_url, scope="photos.read photos.print")
    params = {"name": "print_photo", "arguments": {"photo_id": "p1"}}
    result = rpc_result(_call(mcp_url, token, "tools/call", params))
    assert result is not None
    assert result["content"] == [{"type": "text", "text": "no photo p1; none queued"}]
    headers = {"authorization": f"Bearer {probe_sandbox.admin_token}"}
    events = httpx.get(probe_sandbox.issuer + "/probe/log", headers=headers).json()["events"]
    assert {e["client_id"] for e in events if e.get("endpoint") == "resource"} == {UPSTREAM[0]}


@pytest.mark.parametrize(
    ("origin", "status"), [(None, 200), ("own", 200), ("https://evil.example", 403), ("null", 403)]
)
def test_origin_is_validated(
    probe_sandbox: Sandbox, mcp_url: str, origin: str | None, status: int
) -> None:
    token = _token(probe_sandbox, aud=mcp_url, scope="photos.read")
    headers = (
        {}
        if origin is None
        else {"origin": mcp_url.removesuffix("/mcp") if origin == "own" else origin}
    )
    answer = _call(mcp_url, token, **headers)
    assert answer.status_code == status


def test_token_in_the_query_is_no_token(probe_sandbox: Sandbox, mcp_url: str) -> None:
    token = _token(probe_sandbox, aud=mcp_url, scope="photos.read")
    answer = httpx.post(
        mcp_url,
        params={"access_token": token},
        json=rpc_body("tools/list"),
        headers={"accept": ACCEPT},
    )
    assert answer.status_code == 401
    assert "error=" not in answer.headers["www-authenticate"]


def test_broken_json_is_a_json_rpc_error_not_a_500(probe_sandbox: Sandbox, mcp_url: str) -> None:
    token = _token(probe_sandbox, aud=mcp_url, scope="photos.read")
    answer = httpx.post(
        mcp_url,
        content=b'{"jsonrpc": "2.0", "id": 1, "method"',
        headers={
            "authorization": f"Bearer {token}",
            "accept": ACCEPT,
            "content-type": "application/json",
        },
    )
    assert answer.status_code == 400
    assert json.loads(answer.text)["error"]["code"] == -32700

"""A third-party MCP server accepts sandbox tokens: one written here with the SDK's own auth
(a `TokenVerifier` checking the signature against the sandbox's JWKS, the SDK's bearer
middleware checking the resource, RFC 8707) takes tokens for its audience and refuses
another audience's."""

from __future__ import annotations

import json
import time
from typing import Any

import httpx
from joserfc import jws
from joserfc.errors import JoseError
from joserfc.jwk import KeySet
from mcp.server.auth.provider import AccessToken
from mcp.server.auth.settings import AuthSettings
from mcp.server.mcpserver import MCPServer

from tests.support.mcp_server import serving_mcp
from tests.support.sandbox import Sandbox
from valetkey.mcp.guard import App
from valetkey.mcp.jsonrpc import ACCEPT, rpc_body, rpc_result


class SandboxJwtVerifier:
    """What an MCP server author writes for the SDK: JWKS signature check, issuer, claims."""

    def __init__(self, issuer: str) -> None:
        self.issuer = issuer
        self.keys = KeySet.import_key_set(httpx.get(issuer + "/jwks.json").json())

    async def verify_token(self, token: str) -> AccessToken | None:
        try:
            claims: dict[str, Any] = json.loads(
                jws.deserialize_compact(token, self.keys, algorithms=["ES256"]).payload
            )
        except (JoseError, ValueError):
            return None
        if claims.get("iss") != self.issuer:
            return None
        return AccessToken(
            token=token,
            client_id=str(claims.get("client_id", "")),
            scopes=str(claims.get("scope", "")).split(),
            expires_at=int(claims["exp"]),
            resource=str(claims.get("aud")),
        )


def _app(url: str, issuer: str) -> App:
    server: MCPServer[Any] = MCPServer(
        name="third-party",
        token_verifier=SandboxJwtVerifier(issuer),
        auth=AuthSettings(
            issuer_url=issuer,
            resource_server_url=url,
            required_scopes=["photos.read"],
            validate_token_resource=True,
        ),
        log_level="WARNING",
    )

    @server.tool()
    def hello() -> str:
        """Say hello."""
        return "hello"

    return server.streamable_http_app(stateless_http=True, json_response=True)


def _token(sandbox: Sandbox, aud: str) -> str:
    now = int(time.time())
    claims = {"iss": sandbox.issuer, "aud": aud, "exp": now + 300, "scope": "photos.read"}
    answer = httpx.post(
        sandbox.issuer + "/probe/mint",
        json={"claims": claims},
        headers={"authorization": f"Bearer {sandbox.admin_token}"},
    )
    return str(answer.json()["access_token"])


def _list(url: str, token: str) -> httpx.Response:
    headers = {"authorization": f"Bearer {token}", "accept": ACCEPT}
    return httpx.post(url, json=rpc_body("tools/list"), headers=headers)


def test_sdk_server_accepts_its_audience_and_refuses_another(probe_sandbox: Sandbox) -> None:
    with serving_mcp(lambda url: _app(url, probe_sandbox.issuer)) as url:
        own = _list(url, _token(probe_sandbox, url))
        other = _list(url, _token(probe_sandbox, "https://other.example/mcp"))
    listed = rpc_result(own)
    assert listed is not None
    assert [tool["name"] for tool in listed["tools"]] == ["hello"]
    assert other.status_code == 401
    assert 'error="invalid_token"' in other.headers["www-authenticate"]

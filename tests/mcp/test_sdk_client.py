"""The official MCP Python SDK's client talks to the reference server with a sandbox token:
a third-party client sees the tools and calls them (the token in its HTTP client's header)."""

from __future__ import annotations

import asyncio
import time

import httpx
import httpx2
import pytest
from mcp.client.streamable_http import streamable_http_client

from mcp import Client
from tests.support.mcp_server import serving_mcp
from tests.support.sandbox import Sandbox
from valetkey.mcp.guard import App
from valetkey.mcp.server import McpSettings, build_app


def _minted(sandbox: Sandbox, aud: str, scope: str) -> str:
    now = int(time.time())
    claims = {"iss": sandbox.issuer, "aud": aud, "exp": now + 300, "scope": scope, "sub": "s"}
    answer = httpx.post(
        sandbox.issuer + "/probe/mint",
        json={"claims": claims},
        headers={"authorization": f"Bearer {sandbox.admin_token}"},
    )
    return str(answer.json()["access_token"])


async def _session(
    url: str, token: str, tool: str, arguments: dict[str, str]
) -> tuple[list[str], str]:
    headers = {"authorization": f"Bearer {token}"}
    async with (
        httpx2.AsyncClient(headers=headers) as http,
        Client(streamable_http_client(url, http_client=http)) as client,
    ):
        tools = await client.list_tools()
        result = await client.call_tool(tool, arguments)
    text = result.content[0]
    return [t.name for t in tools.tools], getattr(text, "text", "")


NO_UPSTREAM = (
    "the photos API is not available: no client credentials for the photos API are configured"
)


@pytest.mark.parametrize(
    ("tool", "arguments"), [("list_photos", {}), ("print_photo", {"photo_id": "p1"})]
)
def test_sdk_client_lists_and_calls_tools(
    probe_sandbox: Sandbox, tool: str, arguments: dict[str, str]
) -> None:
    """Without upstream credentials the tools say so, in the tool result (not an HTTP error)."""

    def build(url: str) -> App:
        return build_app(McpSettings(url, probe_sandbox.issuer))

    with serving_mcp(build) as url:
        token = _minted(probe_sandbox, url, "photos.read photos.print")
        names, answered = asyncio.run(_session(url, token, tool, arguments))
    assert names == ["list_photos", "print_photo"]
    assert answered == NO_UPSTREAM

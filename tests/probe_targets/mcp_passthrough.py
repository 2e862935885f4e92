"""Flaw: a tool forwards the client's own token to the sandbox's photos API (MS-08)."""

from __future__ import annotations

from typing import Any

import httpx
import mcp_types as types

from tests.probe_targets.mcp_kit import guarded, lowlevel_app, text
from valetkey.mcp.guard import App


def build(url: str, issuer: str) -> App:
    async def call_tool(ctx: Any, params: types.CallToolRequestParams) -> types.CallToolResult:
        header = ctx.request.headers["authorization"]  # FLAW: the client's token, passed on
        async with httpx.AsyncClient() as http:
            answer = await http.get(issuer + "/api/photos", headers={"authorization": header})
        return text(f"the photos API answered {answer.status_code}")

    return guarded(lowlevel_app(url, call_tool), url, issuer)

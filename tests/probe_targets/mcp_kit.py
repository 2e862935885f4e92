"""What the flawed MCP servers of the probe's zoo share: two photos tools on the SDK in its
two styles (MCPServer, the low-level Server), and valetkey's guard for everything each
server does right. Each `mcp_*.py` module builds one server with exactly one flaw:
`build(url, issuer)` returns its ASGI app."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import mcp_types as types
from mcp.server.lowlevel import Server
from mcp.server.mcpserver import MCPServer
from starlette.applications import Starlette
from starlette.routing import Mount

from valetkey.mcp.guard import App, Guard
from valetkey.mcp.server import McpSettings, transport_security, verifier_for
from valetkey.mcp.verification import Verifier

PHOTOS = ("beach.jpg", "mountain.jpg")


def mcpserver_app(url: str, check_origin: bool = True) -> Starlette:
    """The MCPServer (formerly FastMCP) style: tools are decorated functions."""
    server: MCPServer[Any] = MCPServer(name="zoo-photos", log_level="WARNING")

    @server.tool()
    def list_photos() -> str:
        """List the photos."""
        return ", ".join(PHOTOS)

    @server.tool()
    def print_photo(photo_id: str) -> str:
        """Print a photo."""
        return f"queued {photo_id}"

    security = transport_security(url) if check_origin else None
    return server.streamable_http_app(
        streamable_http_path=httpx.URL(url).path,
        stateless_http=True,
        json_response=True,
        transport_security=security,
        # binds nothing: a non-loopback name keeps the SDK from adding its own Origin check
        host="zoo.invalid",
    )


TOOLS = [
    types.Tool(name="list_photos", description="List the photos.", input_schema={"type": "object"}),
    types.Tool(
        name="print_photo",
        description="Print a photo.",
        input_schema={
            "type": "object",
            "properties": {"photo_id": {"type": "string"}},
            "required": ["photo_id"],
        },
    ),
]


async def list_tools(ctx: Any, params: Any) -> types.ListToolsResult:
    return types.ListToolsResult(tools=TOOLS)


def text(value: str) -> types.CallToolResult:
    return types.CallToolResult(content=[types.TextContent(type="text", text=value)])


async def call_tool(ctx: Any, params: types.CallToolRequestParams) -> types.CallToolResult:
    return text(", ".join(PHOTOS) if params.name == "list_photos" else "queued")


def lowlevel_app(url: str, on_call_tool: Any = call_tool) -> Starlette:
    """The low-level Server style: one handler per JSON-RPC method."""
    server: Server[Any] = Server("zoo-photos", on_list_tools=list_tools, on_call_tool=on_call_tool)
    return server.streamable_http_app(
        streamable_http_path=httpx.URL(url).path,
        stateless_http=True,
        json_response=True,
        transport_security=transport_security(url),
    )


def mounted(inner: Starlette) -> App:
    """The MCP app mounted inside a larger Starlette application, whose start-up runs the
    MCP app's own (the SDK's session manager)."""

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        async with inner.router.lifespan_context(inner):
            yield

    return Starlette(routes=[Mount("/", app=inner)], lifespan=lifespan)


def guarded(
    inner: App, url: str, issuer: str, guard: type[Guard] = Guard, verifier: Verifier | None = None
) -> App:
    settings = McpSettings(url, issuer)
    path = httpx.URL(url).path.rstrip("/")
    return guard(inner, verifier or verifier_for(settings), httpx.AsyncClient(), path)

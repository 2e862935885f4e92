"""The reference protected MCP server: photos tools on the official MCP SDK, behind the
guard (RFC 9728 metadata, token verification, per-tool scopes).

`list_photos` needs `photos.read`; `print_photo` needs `photos.print` too (a 403 step-up
challenge otherwise). Both read the sandbox's photos API with the server's own
client-credentials token, never with the client's.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx
from mcp.server.mcpserver import MCPServer
from mcp.server.transport_security import TransportSecuritySettings

from valetkey.mcp.guard import App, Guard
from valetkey.mcp.metadata import origin_of
from valetkey.mcp.upstream import Credentials, Upstream, UpstreamError
from valetkey.mcp.verification import Introspection, Verifier

DEFAULT_URL = "http://127.0.0.1:8790/mcp"


@dataclass(frozen=True)
class McpSettings:
    url: str  # the canonical server URL: the audience its tokens must name (RFC 8707 §2)
    issuer: str  # the authorization server, byte for byte as its tokens carry it (`iss`)
    credentials: Credentials | None = None  # its own client, for introspection and the API


def _photos_server(upstream: Upstream, http: httpx.AsyncClient) -> MCPServer[Any]:
    server: MCPServer[Any] = MCPServer(name="valetkey-photos", log_level="WARNING")

    @server.tool()
    async def list_photos() -> str:
        """List the photos of the demo photos API (scope photos.read)."""
        try:
            photos = await upstream.photos(http)
        except UpstreamError as exc:
            return f"the photos API is not available: {exc}"
        return "\n".join(str(p.get("title", p.get("id", ""))) for p in photos) or "no photos"

    @server.tool()
    async def print_photo(photo_id: str) -> str:
        """Queue a photo for printing (scopes photos.read and photos.print)."""
        try:
            photos = await upstream.photos(http)
        except UpstreamError as exc:
            return f"the photos API is not available: {exc}"
        known = any(str(p.get("id")) == photo_id for p in photos)
        return f"queued {photo_id} for printing" if known else f"no photo {photo_id}; none queued"

    return server


def transport_security(url: str) -> TransportSecuritySettings:
    """The SDK's DNS-rebinding guard (MCP transport security): our Host, our Origin only; a
    foreign Origin or `null` gets 403, no Origin (a non-browser client) is fine."""
    return TransportSecuritySettings(
        enable_dns_rebinding_protection=True,
        allowed_hosts=[httpx.URL(url).netloc.decode()],
        allowed_origins=[origin_of(url)],
    )


def verifier_for(settings: McpSettings) -> Verifier:
    """The sandbox's endpoints sit under its issuer; `iss` is compared with it unchanged."""
    base, creds = settings.issuer.rstrip("/"), settings.credentials
    introspection = (
        Introspection(base + "/introspect", creds.client_id, creds.client_secret) if creds else None
    )
    return Verifier(settings.issuer, settings.url, base + "/jwks.json", introspection)


def build_app(settings: McpSettings, http: httpx.AsyncClient | None = None) -> App:
    """The ASGI app: the guard in front of the SDK's stateless streamable-HTTP app. `http`:
    the one client for everything it sends (keys, introspection, its own token, the API),
    which a walkthrough can record."""
    http = http or httpx.AsyncClient()
    base = settings.issuer.rstrip("/")
    upstream = Upstream(base + "/token", base + "/api/photos", settings.credentials)
    path = httpx.URL(settings.url).path
    inner = _photos_server(upstream, http).streamable_http_app(
        streamable_http_path=path,
        stateless_http=True,
        json_response=True,
        transport_security=transport_security(settings.url),
    )
    return Guard(inner, verifier_for(settings), http, path.rstrip("/"))

"""RFC 9728 protected-resource metadata (PRM) for an MCP server.

MCP authorization (2025-11-25) has clients look for the document at the path-inserted
well-known URI first (`/.well-known/oauth-protected-resource/mcp`) and then at the root one;
the server serves both, with `resource` equal to its canonical URL (RFC 9728 §3.3).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

WELL_KNOWN = "/.well-known/oauth-protected-resource"


def origin_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def metadata_paths(resource: str) -> tuple[str, ...]:
    """The paths the document is served at: path-inserted (RFC 9728 §3.1) first, then root."""
    path = urlsplit(resource).path.rstrip("/")
    return (WELL_KNOWN + path, WELL_KNOWN) if path else (WELL_KNOWN,)


def resource_metadata_urls(resource: str) -> tuple[str, ...]:
    """Where a client looks for the document without a 401 to point at it, in order."""
    return tuple(origin_of(resource) + path for path in metadata_paths(resource))


def metadata_url(resource: str) -> str:
    """The URL a 401 names in `resource_metadata` (RFC 9728 §5.1): the path-inserted one."""
    return origin_of(resource) + metadata_paths(resource)[0]


def document(resource: str, issuer: str, scopes: tuple[str, ...]) -> dict[str, Any]:
    """The metadata (RFC 9728 §2): tokens only in the Authorization header (RFC 6750 §2.1)."""
    return {
        "resource": resource,
        "authorization_servers": [issuer],
        "scopes_supported": list(scopes),
        "bearer_methods_supported": ["header"],
        "resource_name": "valetkey reference MCP server (photos)",
    }

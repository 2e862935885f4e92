"""Which scope each MCP request needs, read from its JSON-RPC body.

The SDK sees JSON-RPC; HTTP sees one POST to /mcp. To answer a tool call that needs more
scope with an HTTP 403 step-up challenge (MCP 2025-11-25, "Scope Challenge Handling";
RFC 6750 §3.1), the guard reads the method and the tool name before the SDK runs.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from valetkey.oauth import strict_json

BASE_SCOPE = "photos.read"  # every request to /mcp: the minimum (RFC 9728 §5.1 `scope`)
TOOL_SCOPES: Mapping[str, tuple[str, ...]] = {
    "list_photos": ("photos.read",),
    "print_photo": ("photos.read", "photos.print"),
}
SCOPES_SUPPORTED = ("photos.read", "photos.print")


def _messages(body: bytes) -> list[dict[str, Any]]:
    try:
        parsed: Any = strict_json.loads(body) if body else []
    except ValueError:
        return []  # not JSON: the SDK answers it with a JSON-RPC parse error
    items = parsed if isinstance(parsed, list) else [parsed]
    return [m for m in items if isinstance(m, dict)]


def needed(body: bytes) -> tuple[str, ...]:
    """The scopes a request needs: the base scope, plus those of each tool it calls."""
    scopes = [BASE_SCOPE]
    for message in _messages(body):
        params = message.get("params")
        if message.get("method") == "tools/call" and isinstance(params, dict):
            scopes.extend(TOOL_SCOPES.get(str(params.get("name")), ()))
    return tuple(dict.fromkeys(scopes))

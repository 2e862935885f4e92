"""The text of a `WWW-Authenticate: Bearer` challenge (RFC 6750 §3), shared by the sandbox's
resource server and the reference MCP server."""

from __future__ import annotations


def quoted_param(text: str) -> str:
    """Text safe inside a quoted challenge parameter: printable ASCII without quote or
    backslash (RFC 6750 §3: error_description is %x20-21 / %x23-5B / %x5D-7E); anything else
    becomes `?`."""
    return "".join(c if " " <= c <= "~" and c not in '"\\' else "?" for c in text)

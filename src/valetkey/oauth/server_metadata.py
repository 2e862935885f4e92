"""Authorization-server metadata as a client finds and judges it (RFC 8414, OIDC Discovery).

MCP authorization ("Authorization Server Metadata Discovery") has a client that knows an
issuer try these URLs in order and use the first that answers 200 with JSON:

- an issuer with a path (`https://as.example/tenants/acme`):
  RFC 8414 §3.1 path-insert `/.well-known/oauth-authorization-server/tenants/acme`, then the
  OpenID Connect path-insert `/.well-known/openid-configuration/tenants/acme`, then OIDC
  Discovery 1.0 §4 path-append `/tenants/acme/.well-known/openid-configuration`;
- an issuer without one: `/.well-known/oauth-authorization-server`, then
  `/.well-known/openid-configuration`.

What it found is then judged before anything is sent to the server: its `issuer` must be
the issuer the URL was built from, byte for byte (RFC 8414 §3.3: otherwise an attacker's
document could redirect the client), and it must list S256 in
`code_challenge_methods_supported` (MCP: a client refuses a server that does not, since
PKCE cannot be shown to be supported otherwise; RFC 7636 §4.2).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit, urlunsplit

OAUTH = "/.well-known/oauth-authorization-server"
OPENID = "/.well-known/openid-configuration"


def metadata_urls(issuer: str) -> tuple[str, ...]:
    """The URLs to try, in MCP's order."""
    parts = urlsplit(issuer)
    path = parts.path.rstrip("/")

    def at(new_path: str) -> str:
        return urlunsplit((parts.scheme, parts.netloc, new_path, "", ""))

    if not path:
        return at(OAUTH), at(OPENID)
    return at(OAUTH + path), at(OPENID + path), at(path + OPENID)


def metadata_problem(document: Any, issuer: str) -> str | None:
    """Why a client must not use this metadata document for `issuer`, or None."""
    if not isinstance(document, dict):
        return "the metadata is not a JSON object"
    if document.get("issuer") != issuer:
        return (
            f"its issuer {document.get('issuer')!r} is not {issuer!r}, the issuer it was "
            "looked up for (RFC 8414 §3.3)"
        )
    methods = document.get("code_challenge_methods_supported")
    if not isinstance(methods, list) or "S256" not in methods:
        return (
            "it does not list S256 in code_challenge_methods_supported, so PKCE cannot be "
            "relied on (MCP authorization; RFC 7636 §4.2)"
        )
    for name in ("authorization_endpoint", "token_endpoint"):
        if not isinstance(document.get(name), str):
            return f"it has no {name} (RFC 8414 §2)"
    return None

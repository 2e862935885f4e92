"""What a resource indicator may be (RFC 8707 §2), and its canonical form.

RFC 8707 §2: the `resource` value is an absolute URI, without a fragment, and SHOULD NOT
have a query. The sandbox is stricter, as it is everywhere: https, or http to a loopback
address (RFC 9700 §2.6, as for redirect URIs), no userinfo (RFC 3986 §3.2.1), and no query.
The canonical form lower-cases the scheme and host and drops a default port, so that
`HTTPS://MCP.example:443/mcp` and `https://mcp.example/mcp` name one resource; the path is
kept byte for byte (RFC 3986 §6.2.2: only scheme and host are case-insensitive).
"""

from __future__ import annotations

from urllib.parse import SplitResult, urlsplit

from valetkey.oauth.redirect_uris import RedirectUriError, normalize_redirect_uri

MAX_RESOURCE_LENGTH = 2000
DEFAULT_PORTS = {"https": 443, "http": 80}


class ResourceUriError(ValueError):
    """Why a value is not a resource indicator (a phrase: "must ...")."""


def _split(uri: str) -> SplitResult:
    if len(uri) > MAX_RESOURCE_LENGTH:
        raise ResourceUriError(f"must be at most {MAX_RESOURCE_LENGTH} characters")
    if "#" in uri:
        raise ResourceUriError("must not contain a fragment (RFC 8707 §2)")
    if "?" in uri:
        raise ResourceUriError("must not contain a query (RFC 8707 §2)")
    scheme = uri.partition(":")[0].lower() if ":" in uri else ""
    if scheme not in DEFAULT_PORTS:
        raise ResourceUriError(
            "must be an absolute https URL, or http to a loopback address (RFC 8707 §2)"
        )
    try:  # characters, host (in ASCII), userinfo, https or loopback http
        normalized = normalize_redirect_uri(uri)
    except RedirectUriError as exc:
        raise ResourceUriError(str(exc).replace("RFC 6749 §3.1.2", "RFC 8707 §2")) from None
    return urlsplit(normalized)


def canonical_resource(uri: str) -> str:
    """The canonical form of a resource indicator, or ResourceUriError saying what is wrong."""
    parts = _split(uri)
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower()
    shown = f"[{host}]" if ":" in host else host
    if parts.port is not None and parts.port != DEFAULT_PORTS[scheme]:
        shown = f"{shown}:{parts.port}"
    return f"{scheme}://{shown}{parts.path}"


def resource_problem(uri: str) -> str | None:
    """None for a well-formed resource indicator, else what is wrong with it."""
    try:
        canonical_resource(uri)
    except ResourceUriError as exc:
        return str(exc)
    return None

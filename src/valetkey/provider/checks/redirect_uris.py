"""What a redirect URI may be (RFC 6749 §3.1.2, RFC 9700 §2.1 and §4.1, RFC 8252 §7.3)."""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def redirect_uri_problem(uri: str) -> str | None:
    """Why this URI cannot be registered or used, or None when it can."""
    try:
        parts = urlsplit(uri)
        host = parts.hostname or ""
        _ = parts.port  # raises on a bad port
    except ValueError:
        return "is not a valid URL"
    if parts.fragment or "#" in uri:
        return "must not contain a fragment (RFC 6749 §3.1.2)"
    if not parts.scheme or not host:
        return "must be an absolute URL (RFC 6749 §3.1.2)"
    if "*" in uri:
        return "must not contain a wildcard (RFC 9700 §4.1.3)"
    if parts.scheme == "http" and not is_loopback(host):
        return "must use https unless it points at a loopback address (RFC 9700 §2.6)"
    if parts.scheme in {"javascript", "data", "file", "vbscript"}:
        return f"must not use the {parts.scheme}: scheme"
    return None

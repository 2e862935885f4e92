"""What a redirect URI may be: one set of rules for every way one is registered (the CLI,
the admin API, dynamic registration) and for every authorization request.

RFC 6749 §3.1.2 (absolute, no fragment), RFC 9700 §2.1 and §4.1.3 (exact, no wildcard),
RFC 9700 §2.6 and RFC 8252 §7.3 (https, or http to a loopback address), RFC 8252 §7.1
(private-use schemes in reverse-domain form), RFC 3986 §2.1 and §3.2.1 (well-formed percent
escapes; no userinfo, which browsers and Python parse differently). Hosts are stored in
their ASCII (punycode) form (RFC 5891), so a Location header never carries anything else.
"""

from __future__ import annotations

import ipaddress
import re
from urllib.parse import SplitResult, urlsplit, urlunsplit

import idna

MAX_LENGTH = 2000
PRIVATE_USE = re.compile(r"[a-z][a-z0-9+\-]*(\.[a-z0-9+\-]+)+")  # RFC 8252 §7.1: com.example.app
LABEL = r"[a-z0-9_]([a-z0-9\-_]{0,61}[a-z0-9_])?"
HOSTNAME = re.compile(rf"(?=.{{1,253}}\Z){LABEL}(\.{LABEL})*\.?")
BAD_ESCAPE = re.compile(r"%(?![0-9A-Fa-f]{2})")
# characters RFC 3986 §2 allows in a URI, besides letters and digits
URI_CHARS = re.compile(r"[A-Za-z0-9\-._~:/?#\[\]@!$&'()*+,;=%]*")


class RedirectUriError(ValueError):
    """Why a redirect URI cannot be registered or used (a phrase: "must ...")."""


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _ascii_host(host: str) -> str:
    """The host in ASCII: an IP literal as it is, a name in punycode (IDNA 2008, UTS #46)."""
    if ":" in host or re.fullmatch(r"[0-9.]+", host):
        try:
            ipaddress.ip_address(host.strip("[]"))
        except ValueError:
            raise RedirectUriError("must name a valid IP address or host name") from None
        return host
    try:
        ascii_host = idna.encode(host, uts46=True).decode("ascii") if not host.isascii() else host
    except idna.IDNAError:
        raise RedirectUriError("must name a valid host (IDNA, RFC 5891)") from None
    if not HOSTNAME.fullmatch(ascii_host.lower()):
        raise RedirectUriError("must name a valid host name")
    return ascii_host


def _characters(uri: str) -> None:
    if len(uri) > MAX_LENGTH:
        raise RedirectUriError(f"must be at most {MAX_LENGTH} characters")
    if any(c.isspace() or ord(c) < 0x20 or 0x7F <= ord(c) <= 0x9F for c in uri):
        raise RedirectUriError("must not contain spaces or control characters (CR, LF ...)")
    if "\\" in uri:
        raise RedirectUriError("must not contain a backslash (browsers read it as '/')")
    if BAD_ESCAPE.search(uri):
        raise RedirectUriError("must use '%' only in escapes of two hex digits (RFC 3986 §2.1)")
    if "*" in uri:
        raise RedirectUriError("must not contain a wildcard (RFC 9700 §4.1.3)")
    if "#" in uri:
        raise RedirectUriError("must not contain a fragment (RFC 6749 §3.1.2)")


def _split(uri: str) -> SplitResult:
    try:
        parts = urlsplit(uri)
        _ = parts.port  # raises on a bad port
    except ValueError:
        raise RedirectUriError("is not a valid URL") from None
    if not parts.scheme:
        raise RedirectUriError("must be an absolute URL (RFC 6749 §3.1.2)")
    if "@" in parts.netloc:
        raise RedirectUriError("must not contain userinfo (user@host; RFC 3986 §3.2.1)")
    return parts


def _web(uri: str, parts: SplitResult) -> str:
    """An https URL, or http to loopback; returned with its host in ASCII."""
    host = parts.hostname or ""
    if not host:
        raise RedirectUriError("must be an absolute URL with a host (RFC 6749 §3.1.2)")
    ascii_host = _ascii_host(host)
    if parts.scheme == "http" and not is_loopback(ascii_host):
        raise RedirectUriError(
            "must use https unless it points at a loopback address (RFC 9700 §2.6)"
        )
    if ascii_host == host:
        return uri  # already ASCII: exactly as given (RFC 9700 §4.1.3)
    netloc = ascii_host if parts.port is None else f"{ascii_host}:{parts.port}"
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, ""))


def normalize_redirect_uri(uri: str) -> str:
    """The redirect URI to register (host in punycode), or RedirectUriError saying why not."""
    _characters(uri)
    parts = _split(uri)
    scheme = parts.scheme.lower()
    if scheme in ("https", "http"):  # RFC 9700 §2.6
        normalized = _web(uri, parts)
    elif PRIVATE_USE.fullmatch(scheme):  # RFC 8252 §7.1: a private-use (native app) scheme
        if parts.netloc:
            raise RedirectUriError("with a private-use scheme has no host: com.example.app:/cb")
        normalized = uri
    else:
        raise RedirectUriError(
            f"must use https, http to loopback, or a reverse-domain private-use scheme "
            f"(RFC 8252 §7.1), not {scheme}:"
        )
    if not URI_CHARS.fullmatch(normalized):
        raise RedirectUriError("must percent-encode characters outside ASCII (RFC 3986 §2.1)")
    return normalized


def loose_redirect_uri_problem(uri: str) -> str | None:
    """LAB loose-redirect: only what keeps the Location header well-formed (ASCII, no
    spaces or control characters); userinfo tricks and other hosts get through on purpose."""
    try:
        _characters(uri)
    except RedirectUriError as exc:
        return str(exc)
    return None if uri.isascii() else "must be ASCII"


def redirect_uri_problem(uri: str) -> str | None:
    """Why this URI cannot be used as it is (also if it is not in its registered ASCII
    form), or None when it can."""
    try:
        normalized = normalize_redirect_uri(uri)
    except RedirectUriError as exc:
        return str(exc)
    if normalized != uri:
        return f"must be registered in its ASCII form: {normalized}"
    return None

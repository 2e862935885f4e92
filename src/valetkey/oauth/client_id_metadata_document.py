"""Client ID Metadata Documents (draft-ietf-oauth-client-id-metadata-document): the rules
that need no network.

A client may use, as its `client_id`, the https URL of a JSON document that describes it;
the authorization server fetches the document. Here: which URLs may be such a client id
(§3), how long a fetched document may be reused (its Cache-Control, between a floor and a
ceiling), and which hosts the sandbox fetches from at all (the SSRF guard: loopback, and the
hosts named with `--cimd-allow`).
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from valetkey.oauth.redirect_uris import is_loopback

MAX_URL = 255  # the length of a client id in the store
CACHE_FLOOR = 60.0  # seconds: a document is not fetched more often than this
CACHE_CEILING = 24 * 3600.0  # nor kept longer than this
CACHE_DEFAULT = 300.0  # without a max-age
MAX_AGE = re.compile(r"(?:^|,)\s*(?:s-)?max-age\s*=\s*\"?(\d{1,10})\"?\s*(?:,|$)", re.I)


def is_document_url(client_id: str) -> bool:
    """Does this client_id claim to be a metadata document's URL (so it must be fetched)?"""
    return client_id.startswith(("https://", "http://"))


def document_url_problem(url: str) -> str | None:
    """Why this URL cannot be a client id (a phrase: "must ..."), or None.

    §3: https, with a path, no fragment, no userinfo, no dot segments. The sandbox also takes
    http to a loopback address, for clients under development (RFC 8252 §7.3's reasoning).
    """
    if len(url) > MAX_URL or not url.isascii() or any(c.isspace() for c in url):
        return f"must be at most {MAX_URL} ASCII characters without spaces"
    try:
        parts = urlsplit(url)
        _ = parts.port
    except ValueError:
        return "must be a valid URL"
    host = parts.hostname or ""
    if parts.scheme == "http" and not is_loopback(host):
        return "must use https (http only to a loopback address)"
    checks = (
        (parts.scheme not in ("https", "http") or not host, "must be an https URL with a host"),
        ("@" in parts.netloc, "must not contain userinfo (user@host)"),
        (bool(parts.fragment) or "#" in url, "must not contain a fragment"),
        (parts.path in ("", "/"), "must have a path (https://app.example/client.json)"),
        (
            any(seg in (".", "..") for seg in parts.path.split("/")),
            "must not contain . or .. path segments",
        ),
    )
    return next((message for failed, message in checks if failed), None)


def cache_lifetime(cache_control: str | None) -> float:
    """Seconds a fetched document may be reused: its max-age, clamped to the floor and the
    ceiling; no-store and no-cache give the floor (the sandbox still does not fetch on every
    request); no header gives the default (RFC 9111 §5.2.2)."""
    if not cache_control:
        return CACHE_DEFAULT
    lowered = cache_control.lower()
    if "no-store" in lowered or "no-cache" in lowered:
        return CACHE_FLOOR
    match = MAX_AGE.search(cache_control)
    if match is None:
        return CACHE_DEFAULT
    return min(max(float(match.group(1)), CACHE_FLOOR), CACHE_CEILING)


def target_refusal(host: str, allowed: tuple[str, ...]) -> str | None:
    """The SSRF guard's decision: None when the sandbox may fetch from `host`, else why not.

    By default only loopback (127.0.0.0/8, [::1], localhost): a sandbox that fetched any URL
    a client names could be made to reach internal services. `--cimd-allow HOST` adds hosts,
    by exact (case-insensitive) name.
    """
    name = host.lower().rstrip(".")
    if is_loopback(name) or name in allowed or f"[{name}]" in allowed:
        return None
    return (
        f"the sandbox fetches client metadata documents only from loopback; {host!r} is not "
        f"loopback: start it with --cimd-allow {host} to allow it"
    )

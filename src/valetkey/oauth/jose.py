"""JOSE helpers that are not signing: reading a compact JWT's parts without trusting them, and
the SHA-256 digests OAuth and OIDC carry in base64url (PKCE S256, `at_hash`, DPoP `ath`).

Signing and verification stay with joserfc; what is here never decides whether a token is
genuine. `unverified_*` read a token so that a probe or the inspector can say what it claims.
"""

from __future__ import annotations

import hashlib
from typing import Any

from valetkey.oauth import base64url, strict_json


class MalformedJwt(ValueError):
    """The text is not a compact JWS/JWT (RFC 7515 §7.1)."""


def sha256_b64url(text: str) -> str:
    """BASE64URL(SHA256(ASCII(text))): PKCE S256 (RFC 7636 §4.2), DPoP `ath` (RFC 9449 §4.2)."""
    return base64url.encode(hashlib.sha256(text.encode("ascii")).digest())


def left_half_hash(text: str) -> str:
    """The left half of SHA-256, base64url: `at_hash` and `c_hash` for the *256 algorithms
    (OIDC Core §3.1.3.6, §3.3.2.11)."""
    return base64url.encode(hashlib.sha256(text.encode("ascii")).digest()[:16])


def _segments(token: str) -> list[str]:
    parts = token.split(".")
    if len(parts) != 3:
        raise MalformedJwt("a compact JWT has three dot-separated parts")
    return parts


def json_segment(segment: str) -> dict[str, Any]:
    """A base64url JWS segment as a JSON object, read strictly (`strict_json`: an attacker's
    token must not reach the recursion limit); `MalformedJwt` otherwise."""
    try:
        return strict_json.loads_object(base64url.decode(segment))
    except ValueError:  # Base64UrlError, UnicodeDecodeError and JSON errors are ValueErrors
        raise MalformedJwt("a JWT segment is not a base64url JSON object") from None


def unverified_header(token: str) -> dict[str, Any]:
    """The JOSE header, UNVERIFIED: for reports and inspection, never for a decision."""
    return json_segment(_segments(token)[0])


def unverified_claims(token: str) -> dict[str, Any]:
    """The claims, UNVERIFIED: for reports and inspection, never for a decision."""
    return json_segment(_segments(token)[1])

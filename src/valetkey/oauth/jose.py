"""JOSE helpers that are not signing: reading a compact JWT's parts without trusting them.

Signing and verification stay with joserfc; what is here never decides whether a token is
genuine. `unverified_*` read a token so that a probe or the inspector can say what it claims.
"""

from __future__ import annotations

from typing import Any

from valetkey.oauth import base64url, strict_json


class MalformedJwt(ValueError):
    """The text is not a compact JWS/JWT (RFC 7515 §7.1)."""


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

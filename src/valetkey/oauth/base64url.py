"""base64url without padding (RFC 7515 §2 and Appendix C; RFC 4648 §5), on joserfc's codec,
and the SHA-256 digests OAuth and OIDC carry in it (PKCE S256, `at_hash`, DPoP `ath`).

Every token, PKCE challenge and JWS segment in valetkey goes through `encode` and `decode`.
"""

from __future__ import annotations

import binascii
import hashlib

from joserfc.util import urlsafe_b64decode, urlsafe_b64encode


class Base64UrlError(ValueError):
    """The text is not base64url."""


def encode(data: bytes) -> str:
    """base64url of `data`, with the trailing `=` padding removed (RFC 7515 §2)."""
    return urlsafe_b64encode(data).decode("ascii")


def decode(text: str) -> bytes:
    """The bytes of base64url text (trailing `=` padding tolerated); `Base64UrlError` when it
    is not: standard base64's `+` and `/`, a length no encoding produces, or unused bits that
    are not zero (joserfc's strict codec; RFC 4648 §3.5)."""
    try:
        return urlsafe_b64decode(text.rstrip("=").encode("ascii"))
    except (binascii.Error, UnicodeEncodeError, ValueError):
        raise Base64UrlError("not base64url text") from None


def sha256_b64url(text: str) -> str:
    """BASE64URL(SHA256(ASCII(text))): PKCE S256 (RFC 7636 §4.2), DPoP `ath` (RFC 9449 §4.2)."""
    return encode(hashlib.sha256(text.encode("ascii")).digest())


def left_half_hash(text: str) -> str:
    """The left half of SHA-256, base64url: `at_hash` and `c_hash` for the *256 algorithms
    (OIDC Core §3.1.3.6, §3.3.2.11)."""
    return encode(hashlib.sha256(text.encode("ascii")).digest()[:16])

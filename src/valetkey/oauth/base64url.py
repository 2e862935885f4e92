"""base64url without padding (RFC 7515 §2 and Appendix C; RFC 4648 §5), on joserfc's codec.

Every token, PKCE challenge and JWS segment in valetkey goes through these two functions.
"""

from __future__ import annotations

import binascii

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

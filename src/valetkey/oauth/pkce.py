"""PKCE (RFC 7636): the verifier, its S256 challenge, and what a well-formed verifier is."""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass

from valetkey.oauth.base64url import sha256_b64url

# RFC 7636 §4.1: 43 to 128 characters from the unreserved set
VERIFIER = re.compile(r"[A-Za-z0-9\-._~]{43,128}")
S256 = "S256"


def s256(verifier: str) -> str:
    """The S256 code_challenge: BASE64URL(SHA256(ASCII(code_verifier))) (RFC 7636 §4.2)."""
    return sha256_b64url(verifier)


def is_well_formed(verifier: str) -> bool:
    """43-128 unreserved characters (RFC 7636 §4.1)."""
    return VERIFIER.fullmatch(verifier) is not None


@dataclass(frozen=True)
class Pkce:
    """A fresh verifier and its S256 challenge."""

    verifier: str
    challenge: str
    method: str = S256

    @classmethod
    def new(cls, entropy_bytes: int = 48) -> Pkce:
        """A verifier of `entropy_bytes` random bytes (48 gives 64 characters, 384 bits;
        RFC 7636 §7.1 asks for at least 256 bits)."""
        verifier = secrets.token_urlsafe(entropy_bytes)
        return cls(verifier, s256(verifier))


# the shape of an S256 challenge: 32 bytes of SHA-256 in unpadded base64url
CHALLENGE = re.compile(r"[A-Za-z0-9_-]{43}")


def is_s256_challenge(challenge: str) -> bool:
    return CHALLENGE.fullmatch(challenge) is not None

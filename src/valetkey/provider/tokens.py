"""Minting and reading tokens: codes, opaque tokens, RFC 9068 access-token JWTs, ID tokens.

Every random value comes from `secrets` with 256 bits (RFC 6749 §10.10 asks for at least
128; AS-20). What the database keeps of a bearer value is its SHA-256, never the value.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from joserfc import jws
from joserfc.errors import JoseError

from valetkey.oauth import strict_json
from valetkey.oauth.jose import unverified_header
from valetkey.provider.keys import KeyRing

OPAQUE_PREFIX = "vk_at_"
REFRESH_PREFIX = "vk_rt_"


def random_value() -> str:
    return secrets.token_urlsafe(32)


def digest(value: str) -> str:
    return hashlib.sha256(value.encode("utf-8", "surrogatepass")).hexdigest()


def same(a: str, b: str) -> bool:
    """Constant-time comparison of two strings."""
    return hmac.compare_digest(
        a.encode("utf-8", "surrogatepass"), b.encode("utf-8", "surrogatepass")
    )


def sign(claims: dict[str, Any], ring: KeyRing, alg: str, typ: str = "JWT") -> str:
    key = ring.signing[alg]
    header = {"alg": alg, "kid": key.kid, "typ": typ}
    payload = json.dumps(claims, separators=(",", ":")).encode()
    return jws.serialize_compact(header, payload, key, algorithms=[alg])


@dataclass(frozen=True)
class Minted:
    value: str  # what the client receives
    id: str  # what the database keeps: the jti, or the SHA-256 of an opaque value


def aud_claim(issuer: str, resources: Sequence[str]) -> str | list[str]:
    """An access token's `aud` (RFC 7519 §4.1.3, RFC 8707 §2): the resources it is for, a
    string for one and an array for several; the sandbox's own API when none was named."""
    if not resources:
        return issuer + "/api"
    return resources[0] if len(resources) == 1 else list(resources)


def mint_opaque(prefix: str = OPAQUE_PREFIX) -> Minted:
    value = prefix + random_value()
    return Minted(value, digest(value))


def mint_access_jwt(ring: KeyRing, claims: dict[str, Any]) -> Minted:
    """An RFC 9068 access token: `typ` at+jwt, signed ES256, with a fresh `jti`."""
    jti = secrets.token_hex(16)
    value = sign({**claims, "jti": jti}, ring, "ES256", typ="at+jwt")
    return Minted(value, jti)


class TokenFormatError(ValueError):
    """The access token is not one this sandbox issued."""


def read_access_jwt(ring: KeyRing, value: str) -> dict[str, Any]:
    """Verify an access-token JWT's signature and `typ`; return its claims (RFC 9068 §4)."""
    try:
        header = unverified_header(value)
        kid, alg = str(header["kid"]), str(header["alg"])
    except (ValueError, KeyError, TypeError) as exc:
        raise TokenFormatError("malformed token header") from exc
    key = ring.key_for(kid, alg)
    if key is None or alg != "ES256" or header.get("typ") != "at+jwt":
        raise TokenFormatError("unknown key, algorithm or type")
    try:
        compact = jws.deserialize_compact(value, key, algorithms=["ES256"])
        return strict_json.loads_object(compact.payload)
    except (JoseError, ValueError) as exc:
        raise TokenFormatError("bad signature or payload") from exc


def token_id(ring: KeyRing, value: str) -> str:
    """The database id of a presented access token: its jti (JWT) or its SHA-256 (opaque)."""
    if value.count(".") == 2:
        claims = read_access_jwt(ring, value)
        return str(claims.get("jti", ""))
    return digest(value)

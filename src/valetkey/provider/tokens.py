"""Minting and reading tokens: codes, opaque tokens, RFC 9068 access-token JWTs, ID tokens.

Every random value comes from `secrets` with 256 bits (RFC 6749 §10.10 asks for at least
128; AS-20). What the database keeps of a bearer value is its SHA-256, never the value.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
from dataclasses import dataclass
from typing import Any

from joserfc import jws
from joserfc.errors import JoseError

from valetkey.provider import strict_json
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


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def s256(verifier: str) -> str:
    """RFC 7636 §4.2: BASE64URL(SHA256(ASCII(code_verifier)))."""
    return b64url(hashlib.sha256(verifier.encode("ascii")).digest())


def at_hash(access_token: str) -> str:
    """OIDC Core §3.1.3.6: left half of the SHA-256 of the access token, base64url."""
    return b64url(hashlib.sha256(access_token.encode("ascii")).digest()[:16])


def sign(claims: dict[str, Any], ring: KeyRing, alg: str, typ: str = "JWT") -> str:
    key = ring.signing[alg]
    header = {"alg": alg, "kid": key.kid, "typ": typ}
    payload = json.dumps(claims, separators=(",", ":")).encode()
    return jws.serialize_compact(header, payload, key, algorithms=[alg])


@dataclass(frozen=True)
class Minted:
    value: str  # what the client receives
    id: str  # what the database keeps: the jti, or the SHA-256 of an opaque value


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


def b64_json_object(part: str) -> dict[str, Any]:
    """A base64url JWS part (header or payload) as a JSON object, read strictly (no NaN,
    no deep nesting: an attacker's token must not reach the recursion limit); ValueError."""
    try:
        raw = base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))
    except (ValueError, TypeError) as exc:  # binascii.Error is a ValueError
        raise ValueError("not base64url") from exc
    return strict_json.loads_object(raw)


def jws_header(value: str) -> dict[str, Any]:
    """The protected header of a compact JWS, strictly parsed; ValueError if malformed."""
    return b64_json_object(value.split(".", 1)[0])


def read_access_jwt(ring: KeyRing, value: str) -> dict[str, Any]:
    """Verify an access-token JWT's signature and `typ`; return its claims (RFC 9068 §4)."""
    try:
        header = jws_header(value)
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

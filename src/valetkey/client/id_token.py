"""ID-token verification (OIDC Core §3.1.3.7), with the algorithms pinned (RFC 8725 §3.1).

The signature is checked against the provider's JWKS with only strong asymmetric algorithms
allowed, whatever the token's header or the provider's metadata say; then `iss`, `aud`
(and `azp`), `exp`, `iat` and the `nonce` this browser's sign-in sent.
"""

from __future__ import annotations

import hmac
import time
from typing import Any

import httpx
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

LEEWAY = 60


class IdTokenError(ValueError):
    """The ID token must not be trusted; the message says why."""


def fetch_keys(http: httpx.Client, jwks_uri: str) -> KeySet:
    response = http.get(jwks_uri)
    response.raise_for_status()
    return KeySet.import_key_set(response.json())


def verify_id_token(
    token: str,
    keys: KeySet,
    *,
    issuer: str,
    client_id: str,
    nonce: str,
    algorithms: tuple[str, ...],
    now: float | None = None,
) -> dict[str, Any]:
    if not algorithms:
        raise IdTokenError("no acceptable signing algorithm is offered by the provider")
    try:
        decoded = jwt.decode(token, keys, algorithms=list(algorithms))
    except (JoseError, ValueError) as exc:
        raise IdTokenError(f"bad signature or format ({type(exc).__name__})") from None
    claims = dict(decoded.claims)
    _check_claims(
        claims,
        issuer=issuer,
        client_id=client_id,
        nonce=nonce,
        now=time.time() if now is None else now,
    )
    return claims


def _check_claims(
    claims: dict[str, Any], *, issuer: str, client_id: str, nonce: str, now: float
) -> None:
    if claims.get("iss") != issuer:
        raise IdTokenError("iss is not the provider's issuer")
    aud = claims.get("aud")
    audiences = aud if isinstance(aud, list) else [aud]
    if client_id not in audiences:
        raise IdTokenError("aud does not name this app")
    if len(audiences) > 1 and claims.get("azp") != client_id:
        raise IdTokenError("several audiences and azp is not this app")
    exp, iat = claims.get("exp"), claims.get("iat")
    if not isinstance(exp, int | float) or exp + LEEWAY < now:
        raise IdTokenError("the ID token has expired")
    if not isinstance(iat, int | float) or iat - LEEWAY > now:
        raise IdTokenError("the ID token was issued in the future")
    if not isinstance(claims.get("sub"), str) or not claims["sub"]:
        raise IdTokenError("sub is missing")
    got = claims.get("nonce")
    if not isinstance(got, str) or not hmac.compare_digest(got.encode(), nonce.encode()):
        raise IdTokenError("nonce does not match this sign-in")

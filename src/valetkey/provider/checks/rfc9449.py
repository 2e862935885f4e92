"""DPoP (RFC 9449): access tokens bound to a key the client proves it holds.

A client that sends a `DPoP` proof to the token endpoint gets a token of type DPoP whose
`cnf.jkt` names its key; the resource server then accepts that token only with a fresh proof
from the same key, for that request, carrying the token's hash (`ath`).
"""

from __future__ import annotations

import math
import threading
from dataclasses import dataclass, field
from typing import Any

from joserfc import jws
from joserfc.errors import JoseError
from joserfc.jwk import ECKey, RSAKey

from valetkey.oauth import strict_json
from valetkey.oauth.base64url import sha256_b64url
from valetkey.oauth.jose import unverified_header
from valetkey.provider.checks import ProofIds, TokenContext, check
from valetkey.provider.errors import InvalidDpopProof, InvalidGrant
from valetkey.provider.http import Request

ALGORITHMS = ("ES256", "RS256", "PS256")
MAX_AGE = 60  # seconds a proof's iat may be off (RFC 9449 §11.1)


@dataclass
class ReplayCache:
    """Proof jtis seen in the last few minutes (RFC 9449 §11.1); per process."""

    seen: dict[str, float] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def first_use(self, jti: str, now: float) -> bool:
        with self.lock:
            if len(self.seen) > 10_000:
                self.seen = {k: t for k, t in self.seen.items() if t > now - 2 * MAX_AGE}
            if jti in self.seen:
                return False
            self.seen[jti] = now
            return True


def verify_proof(
    proof: str,
    method: str,
    url: str,
    now: float,
    replay: ProofIds,
    access_token: str | None = None,
) -> str:
    """Check a DPoP proof (RFC 9449 §4.3); return the key's thumbprint (jkt)."""
    try:
        header = unverified_header(proof)
        key = _public_key(header)
        compact = jws.deserialize_compact(proof, key, algorithms=list(ALGORITHMS))
        claims = strict_json.loads_object(compact.payload)  # RFC 9449 §4.2: a JSON object
    except (JoseError, ValueError, KeyError, IndexError, TypeError, AttributeError):
        # never echo the proof's content: it ends up in a WWW-Authenticate header
        raise InvalidDpopProof(
            "the DPoP proof is not a valid signed JWT with a public jwk and a JSON object "
            "as payload"
        ) from None
    if header.get("typ") != "dpop+jwt":
        raise InvalidDpopProof("the DPoP proof's typ must be dpop+jwt")
    _check_claims(claims, method, url, now, replay, access_token)
    return key.thumbprint()


def _public_key(header: dict[str, Any]) -> ECKey | RSAKey:
    jwk = header.get("jwk")
    if header.get("alg") not in ALGORITHMS or not isinstance(jwk, dict) or "d" in jwk:
        raise ValueError("an asymmetric alg and a public jwk are required")
    return ECKey.import_key(jwk) if jwk.get("kty") == "EC" else RSAKey.import_key(jwk)


def _check_claims(
    claims: dict[str, Any],
    method: str,
    url: str,
    now: float,
    replay: ProofIds,
    access_token: str | None,
) -> None:
    if claims.get("htm") != method or claims.get("htu") != url:
        raise InvalidDpopProof(
            f"the DPoP proof is for another request (htm, htu must be {method} {url})"
        )
    iat = claims.get("iat")
    # RFC 9449 §4.3 (11): iat within an acceptable window; NaN compares false, so finite only
    if (
        not isinstance(iat, int | float)
        or isinstance(iat, bool)
        or not math.isfinite(iat)
        or abs(now - iat) > MAX_AGE
    ):
        raise InvalidDpopProof("the DPoP proof's iat is too old or in the future")
    jti = claims.get("jti")
    if not isinstance(jti, str) or not jti or not replay.first_use(jti, now):
        raise InvalidDpopProof("the DPoP proof's jti is missing or was used before")
    if access_token is not None and claims.get("ath") != sha256_b64url(access_token):
        raise InvalidDpopProof("the DPoP proof's ath does not match the access token")


def request_url(origin: str, request: Request) -> str:
    """The htu a proof must carry: this endpoint's URL without query (RFC 9449 §4.3)."""
    return origin + request.path


@check("AS-29", "RFC 9449 §4.3, §5", header="dpop")
def dpop_proof_valid(ctx: TokenContext) -> None:
    """A DPoP proof, when sent, is valid for this request; the token will be bound to its key."""
    proof = ctx.request.headers["dpop"]
    assert ctx.dpop is not None
    ctx.dpop_jkt = verify_proof(
        proof, "POST", request_url(ctx.dpop.origin, ctx.request), ctx.now, ctx.dpop.replay
    )


@check("AS-29", "RFC 9449 §5", needs=("refresh",))
def refresh_proof_same_key(ctx: TokenContext) -> None:
    """A DPoP-bound refresh token is used only with a proof by the key it is bound to.

    The refresh token keeps the `jkt` of the proof that came with the request that issued
    it; without a proof the refresh is refused (no silent fall back to a Bearer token), and
    with another key too (a stolen refresh token cannot be moved to the thief's key).
    """
    assert ctx.refresh is not None
    if ctx.refresh.jkt is None:
        return
    if ctx.dpop_jkt is None:
        raise InvalidDpopProof("this refresh token is DPoP-bound: send a DPoP proof by its key")
    if ctx.dpop_jkt != ctx.refresh.jkt:
        raise InvalidGrant("the DPoP proof is signed by another key than the refresh token's")

"""Access-token verification for the MCP server: JWTs against the authorization server's
JWKS, opaque tokens by RFC 7662 introspection.

A JWT is accepted only when all of these hold: `alg` ES256 (never the token's own choice:
RFC 8725 §3.1), `typ` at+jwt (RFC 9068 §4), a `kid` the JWKS publishes, a valid signature,
`iss` equal to the configured issuer byte for byte, `aud` naming this server's canonical URL
(RFC 8707 §2; MCP: audience validation), `exp` in the future and `nbf` in the past within a
small leeway (RFC 7519 §4.1.4-5). The JWKS is cached and fetched again for an unknown `kid`,
at most once per `refetch_every` seconds, so garbage kids cannot make us hammer the server.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import httpx
from joserfc import jws
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

from valetkey.oauth import strict_json
from valetkey.oauth.jose import MalformedJwt, unverified_header

LEEWAY = 5.0  # seconds of clock skew allowed on exp and nbf: the sandbox is usually on this machine
AT_JWT = ("at+jwt", "application/at+jwt")  # RFC 9068 §2.1


class TokenRejected(Exception):
    """The token is not valid for this server; the message says why (no token in it)."""


@dataclass(frozen=True)
class Verified:
    scopes: frozenset[str]
    client_id: str
    subject: str


@dataclass(frozen=True)
class Introspection:
    """This server's own client credentials at the authorization server (RFC 7662 §2.1)."""

    endpoint: str
    client_id: str
    client_secret: str


@dataclass
class Verifier:
    issuer: str
    resource: str
    jwks_uri: str
    introspection: Introspection | None = None
    refetch_every: float = 30.0
    _keys: KeySet | None = None
    _fetched_at: float = field(default=-1e9)

    async def verify(self, token: str, http: httpx.AsyncClient) -> Verified:
        if token.count(".") == 2:
            return _verified(await self._jwt_claims(token, http), self.issuer, self.resource)
        if self.introspection is None:
            raise TokenRejected("opaque tokens need introspection, which is not configured")
        return await self._introspected(token, http, self.introspection)

    async def _jwt_claims(self, token: str, http: httpx.AsyncClient) -> dict[str, Any]:
        try:
            header = unverified_header(token)
        except MalformedJwt as exc:
            raise TokenRejected("the token is not a JWT") from exc
        if header.get("alg") != "ES256" or header.get("typ") not in AT_JWT:
            raise TokenRejected("only ES256 access-token JWTs (typ at+jwt) are accepted")
        kid = header.get("kid")
        if not isinstance(kid, str):
            raise TokenRejected("the token names no key (kid)")
        keys = await self._key_set(kid, http)
        try:
            compact = jws.deserialize_compact(token, keys, algorithms=["ES256"])
            return strict_json.loads_object(compact.payload)
        except (JoseError, ValueError) as exc:
            raise TokenRejected("the signature does not verify") from exc

    async def _key_set(self, kid: str, http: httpx.AsyncClient) -> KeySet:
        known = self._keys is not None and any(k.kid == kid for k in self._keys.keys)
        due = time.monotonic() - self._fetched_at >= self.refetch_every
        if not known and due:
            self._fetched_at = time.monotonic()
            self._keys = await _fetched_key_set(self.jwks_uri, http)
        if self._keys is None or not any(k.kid == kid for k in self._keys.keys):
            raise TokenRejected("the token's key is not in the authorization server's JWKS")
        return self._keys

    async def _introspected(
        self, token: str, http: httpx.AsyncClient, via: Introspection
    ) -> Verified:
        """RFC 7662 §2.1: the token in the form body, our credentials in Basic auth."""
        answer = await http.post(
            via.endpoint,
            data={"token": token, "token_type_hint": "access_token"},
            auth=(via.client_id, via.client_secret),
            timeout=5,
        )
        described = answer.json() if answer.status_code == 200 else {}
        if not isinstance(described, dict) or described.get("active") is not True:
            raise TokenRejected("the authorization server says the token is not active")
        return _verified(described, self.issuer, self.resource)


async def _fetched_key_set(uri: str, http: httpx.AsyncClient) -> KeySet:
    """The JWKS (RFC 7517 §5); a failure to read it is the caller's HTTP error."""
    answer = await http.get(uri, timeout=5)
    answer.raise_for_status()
    try:
        return KeySet.import_key_set(answer.json())
    except (JoseError, ValueError, KeyError, TypeError) as exc:
        raise httpx.DecodingError("the authorization server's JWKS is not a key set") from exc


def _audiences(claims: dict[str, Any]) -> list[str]:
    aud = claims.get("aud")
    return [aud] if isinstance(aud, str) else [a for a in aud or [] if isinstance(a, str)]


def _number(claims: dict[str, Any], name: str) -> float | None:
    value = claims.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TokenRejected(f"{name} is not a number")
    return float(value)


def _verified(claims: dict[str, Any], issuer: str, resource: str) -> Verified:
    now = time.time()
    if claims.get("iss") != issuer:  # byte for byte, no normalisation
        raise TokenRejected("the token comes from another issuer")
    if resource not in _audiences(claims):  # RFC 8707 §2
        raise TokenRejected("the token is for another audience")
    exp, nbf = _number(claims, "exp"), _number(claims, "nbf")
    if exp is None or exp + LEEWAY < now:
        raise TokenRejected("the token has expired")
    if nbf is not None and nbf - LEEWAY > now:
        raise TokenRejected("the token is not valid yet")
    scope = claims.get("scope")
    return Verified(
        frozenset(scope.split()) if isinstance(scope, str) else frozenset(),
        str(claims.get("client_id", "")),
        str(claims.get("sub", "")),
    )

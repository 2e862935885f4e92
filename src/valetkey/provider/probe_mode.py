"""Probe mode (`valetkey serve --probe-mode`): the sandbox as the probe's accomplice.

`valetkey probe client` points a client app at a sandbox in this mode. Through the /probe
control API it reads every back-channel call the app made (token requests, userinfo and API
calls) and makes the *next* authorization or token response for a client a forgery: an ID
token with a bad signature, `alg=none`, the wrong issuer or nonce, an authorization
response without `iss` ... The app's behaviour afterwards is the verdict.
"""

from __future__ import annotations

import hmac
import json
import secrets
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from cryptography.hazmat.primitives import serialization
from joserfc import jws
from joserfc.jwk import ECKey, RSAKey

from valetkey.oauth import base64url
from valetkey.oauth.jose import unverified_claims, unverified_header
from valetkey.provider.keys import KeyRing
from valetkey.provider.tokens import sign

ID_TOKEN_FORGERIES = (
    "bad-signature",
    "alg-none",
    "hs256-rsa-key",
    "wrong-iss",
    "no-iss",
    "wrong-aud",
    "expired",
    "no-sub",
    "unknown-kid",
    "wrong-nonce",
    "no-nonce",
)
TOKEN_FORGERIES = (*ID_TOKEN_FORGERIES, "no-id-token")
AUTHORIZATION_FORGERIES = ("no-iss", "wrong-iss")


@dataclass
class ProbeControl:
    log: list[dict[str, Any]] = field(default_factory=list)
    token_forgery: dict[str, str] = field(default_factory=dict)  # client_id -> how
    authorization_forgery: dict[str, str] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def record(self, **event: Any) -> None:
        with self._lock:
            self.log.append({"seq": len(self.log), "at": time.time(), **event})

    def events(self, client_id: str | None, since: int = 0) -> tuple[list[dict[str, Any]], int]:
        """The events from seq `since` on (only `client_id`'s when given), and the next seq."""
        with self._lock:
            chosen, following = self.log[since:], len(self.log)
        if client_id is not None:
            chosen = [e for e in chosen if e.get("client_id") == client_id]
        return list(chosen), following

    def take(self, table: dict[str, str], client_id: str) -> str | None:
        with self._lock:
            return table.pop(client_id, None)


def _segments(token: str) -> tuple[dict[str, Any], dict[str, Any]]:
    return unverified_header(token), unverified_claims(token)


def _encode(data: dict[str, Any]) -> str:
    return base64url.encode(json.dumps(data, separators=(",", ":")).encode())


def _unsigned(header: dict[str, Any], claims: dict[str, Any]) -> str:
    return f"{_encode(header)}.{_encode(claims)}"


def forge_id_token(token: str, how: str, ring: KeyRing) -> str:
    header, claims = _segments(token)
    alg = str(header["alg"])
    if how == "bad-signature":
        head, body, sig = token.split(".")
        return f"{head}.{body}.{sig[:-4]}{'AAAA' if not sig.endswith('AAAA') else 'BBBB'}"
    if how == "alg-none":
        return _unsigned({"alg": "none", "typ": "JWT"}, claims) + "."
    if how == "hs256-rsa-key":
        return _hs256_with_public_key(claims, ring)
    if how == "unknown-kid":
        stranger = (
            RSAKey.generate_key(2048, auto_kid=True)
            if alg == "RS256"
            else ECKey.generate_key("P-256", auto_kid=True)
        )
        return _resign(claims, alg, stranger)
    changed = _changed_claims(claims, how)
    return sign(changed, ring, alg)


def _changed_claims(claims: dict[str, Any], how: str) -> dict[str, Any]:
    changed = dict(claims)
    if how == "wrong-iss":
        changed["iss"] = "https://evil.example"
    elif how == "no-iss":
        changed.pop("iss", None)
    elif how == "wrong-aud":
        changed["aud"] = "someone-else"
    elif how == "expired":
        changed["iat"], changed["exp"] = int(time.time()) - 7200, int(time.time()) - 3600
    elif how == "no-sub":
        changed.pop("sub", None)
    elif how == "wrong-nonce":
        changed["nonce"] = "not-the-nonce-you-sent"
    elif how == "no-nonce":
        changed.pop("nonce", None)
    return changed


def _resign(claims: dict[str, Any], alg: str, key: RSAKey | ECKey) -> str:
    header = {"alg": alg, "kid": key.kid, "typ": "JWT"}
    return jws.serialize_compact(header, json.dumps(claims).encode(), key, algorithms=[alg])


def _hs256_with_public_key(claims: dict[str, Any], ring: KeyRing) -> str:
    """The key-confusion forgery: HMAC with the RSA public key's PEM as the secret."""
    pem = _public_secret(ring.signing["RS256"], "hs256-public-key", ring)
    return _hmac_signed({"alg": "HS256", "typ": "JWT"}, claims, pem)


def forge_token_response(body: dict[str, Any], how: str, ring: KeyRing) -> dict[str, Any]:
    forged = dict(body)
    if how == "no-id-token":
        forged.pop("id_token", None)
    elif "id_token" in forged:
        forged["id_token"] = forge_id_token(str(forged["id_token"]), how, ring)
    return forged


# -- crafted access tokens (POST /probe/mint): what `valetkey probe mcp-server` presents ------

MINT_SIGNINGS = ("sandbox", "unknown-key", "none", "hs256-public-key", "hs256-public-jwk")
KID_OF_SIGNING_KEY = object()  # the request left `kid` out: the signing key's own kid


@dataclass(frozen=True)
class Crafted:
    value: str
    jti: str
    header: dict[str, Any]


def mint_crafted(
    claims: dict[str, Any], signing: str, kid: str | object | None, ring: KeyRing
) -> Crafted:
    """An access token with whatever claims the probe chose, signed as `signing` says:
    `sandbox` with the sandbox's ES256 key, `unknown-key` with a key nobody publishes,
    `none` unsigned (RFC 7519 §6), `hs256-public-*` HMAC keyed with the sandbox's public key
    as PEM or as JWK JSON (the key confusion of RFC 8725 §3.1)."""
    body = {**claims}
    body.setdefault("jti", secrets.token_hex(16))
    stranger = ECKey.generate_key("P-256", private=True, auto_kid=True)
    key = stranger if signing == "unknown-key" else ring.signing["ES256"]
    header: dict[str, Any] = {"alg": _alg(signing), "typ": "at+jwt"}
    chosen = key.kid if kid is KID_OF_SIGNING_KEY else kid
    if chosen is not None:
        header["kid"] = chosen
    if signing in ("sandbox", "unknown-key"):
        payload = json.dumps(body, separators=(",", ":")).encode()
        value = jws.serialize_compact(header, payload, key, algorithms=["ES256"])
    elif signing == "none":
        value = _unsigned(header, body) + "."
    else:
        value = _hmac_signed(header, body, _public_secret(key, signing, ring))
    return Crafted(value, str(body["jti"]), header)


def _alg(signing: str) -> str:
    return {"none": "none", "hs256-public-key": "HS256", "hs256-public-jwk": "HS256"}.get(
        signing, "ES256"
    )


def _public_secret(key: RSAKey | ECKey, signing: str, ring: KeyRing) -> bytes:
    """The public key's bytes as a careless verifier would pass them to HMAC: its PEM, or
    its JWKS entry as JSON (`json.dumps` of the published object)."""
    if signing == "hs256-public-jwk":
        entry = next(k for k in ring.jwks["keys"] if k.get("kid") == key.kid)
        return json.dumps(entry).encode()
    return key.public_key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def _hmac_signed(header: dict[str, Any], claims: dict[str, Any], secret: bytes) -> str:
    signing_input = _unsigned(header, claims)
    mac = hmac.new(secret, signing_input.encode(), "sha256").digest()
    return f"{signing_input}.{base64url.encode(mac)}"

"""Signing keys: generated once, kept in the database, loaded once per process.

Two keys are active: RS256 for ID tokens (OIDC Core §15.1 makes RS256 mandatory to implement)
and ES256 for RFC 9068 access tokens and for clients that register ES256 ID tokens. Importing
an RSA private key costs tens of milliseconds, so the key ring is built at start-up, not per
request. The JWKS lists every key that is not retired.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from cryptography.hazmat.primitives.asymmetric import rsa
from joserfc.jwk import ECKey, KeySet, RSAKey

from valetkey.oauth import base64url
from valetkey.provider.store.queries import Store

Key = RSAKey | ECKey

SUPPORTED_ALGS = ("RS256", "ES256")


def _generate(alg: str) -> Key:
    if alg == "RS256":
        return RSAKey.generate_key(2048, private=True, auto_kid=True)
    return ECKey.generate_key("P-256", private=True, auto_kid=True)


def _int(value: str) -> int:
    return int.from_bytes(base64url.decode(value), "big")


def _import_rsa(data: dict[str, str]) -> RSAKey:
    """Load an RSA key we generated and stored ourselves without re-validating it.

    cryptography's validation of an RSA private key costs about 40 ms; it guards against
    malformed keys from outside, and these come only from our own database.
    """
    public = rsa.RSAPublicNumbers(_int(data["e"]), _int(data["n"]))
    numbers = rsa.RSAPrivateNumbers(
        _int(data["p"]),
        _int(data["q"]),
        _int(data["d"]),
        _int(data["dp"]),
        _int(data["dq"]),
        _int(data["qi"]),
        public,
    )
    private = numbers.private_key(unsafe_skip_rsa_key_validation=True)
    return RSAKey.import_key(private, {"kid": data["kid"]})


def _new_private_jwk(alg: str) -> tuple[str, str]:
    key = _generate(alg)
    return str(key.kid), json.dumps(key.as_dict(private=True))


def _import(alg: str, private_jwk: str) -> Key:
    data = json.loads(private_jwk)
    return _import_rsa(data) if alg == "RS256" else ECKey.import_key(data)


@dataclass(frozen=True)
class KeyRing:
    signing: dict[str, Key]  # alg -> the newest active key
    by_kid: dict[str, tuple[str, Key]]  # kid -> (alg, key), every key not retired
    jwks: dict[str, Any]

    def key_for(self, kid: str, alg: str) -> Key | None:
        found = self.by_kid.get(kid)
        if found is None or found[0] != alg:
            return None
        return found[1]


def load_key_ring(store: Store, now: float) -> KeyRing:
    """Load the keys, generating any missing one (the first process to start does this)."""
    rows = store.signing_keys()
    if not all(any(r[1] == alg and r[4] is None for r in rows) for alg in SUPPORTED_ALGS):
        store.add_missing_signing_keys(SUPPORTED_ALGS, _new_private_jwk, now)
        rows = store.signing_keys()
    signing: dict[str, Key] = {}
    by_kid: dict[str, tuple[str, Key]] = {}
    public: list[dict[str, Any]] = []
    for kid, alg, private_jwk, _created, retired in rows:
        if retired is not None and retired <= now:
            continue  # retired and past its grace: gone from the JWKS
        key = _import(alg, private_jwk)
        if retired is None:
            signing[alg] = key  # rows are oldest first, so the newest wins
        by_kid[kid] = (alg, key)
        public.append({**key.as_dict(private=False), "use": "sig", "alg": alg})
    return KeyRing(signing, by_kid, {"keys": public})


def rotate(store: Store, now: float, grace: float) -> KeyRing:
    """New signing keys now; the old ones stay in the JWKS for `grace` seconds, long enough
    for every token they signed to expire."""
    store.retire_signing_keys(now + grace)
    return load_key_ring(store, now)


def key_set(ring: KeyRing) -> KeySet:
    return KeySet([key for _alg, key in ring.by_kid.values()])

"""Signed tokens: the header names the key, the payload is the claims, the signature has
RFC 7518's encoding and verifies against the published JWKS (and nothing tampered does)."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from joserfc import jws
from joserfc.errors import BadSignatureError
from joserfc.jwk import KeySet

from valetkey.oauth import base64url
from valetkey.provider.keys import load_key_ring
from valetkey.provider.settings import build_settings
from valetkey.provider.store.open import open_store
from valetkey.provider.tokens import sign


def _part(value: str) -> bytes:
    return base64url.decode(value)


@pytest.mark.parametrize(("alg", "signature_bytes"), [("ES256", 64), ("RS256", 256)])
def test_signed_token_verifies_against_the_jwks(
    tmp_path: Path, alg: str, signature_bytes: int
) -> None:
    store = open_store(build_settings({"db": f"sqlite:///{tmp_path / 'db.sqlite'}"}, environ={}))
    ring = load_key_ring(store, time.time())
    claims = {"iss": "http://127.0.0.1:1", "sub": "alice", "aud": "c1", "n": "é"}
    value = sign(claims, ring, alg, typ="at+jwt")
    header, payload, signature = value.split(".")
    assert json.loads(_part(header)) == {"alg": alg, "kid": ring.signing[alg].kid, "typ": "at+jwt"}
    assert json.loads(_part(payload)) == claims
    assert len(_part(signature)) == signature_bytes  # ES256: R || S, not DER (RFC 7518 §3.4)
    public = KeySet.import_key_set(ring.jwks)
    verified = jws.deserialize_compact(value, public, algorithms=[alg])
    assert json.loads(verified.payload) == claims
    tampered = f"{header}.{payload[:-2]}AA.{signature}"
    with pytest.raises(BadSignatureError):
        jws.deserialize_compact(tampered, public, algorithms=[alg])
    store.close()

"""POST /probe/mint: crafted access tokens with free claims, key and kid (probe mode only)."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives import serialization
from joserfc import jws
from joserfc.jwk import ECKey, KeySet

from tests.support.sandbox import Sandbox
from valetkey.oauth import base64url
from valetkey.oauth.jose import unverified_claims, unverified_header

MCP = "http://127.0.0.1:8790/mcp"


def _mint(sandbox: Sandbox, body: dict[str, Any] | bytes) -> httpx.Response:
    content = body if isinstance(body, bytes) else json.dumps(body).encode()
    return httpx.post(
        sandbox.issuer + "/probe/mint",
        content=content,
        headers={"authorization": f"Bearer {sandbox.admin_token}"},
    )


def _es256_entry(sandbox: Sandbox) -> dict[str, Any]:
    keys = httpx.get(sandbox.issuer + "/jwks.json").json()["keys"]
    return dict(next(k for k in keys if k["alg"] == "ES256"))


def _es256_key(sandbox: Sandbox) -> ECKey:
    return ECKey.import_key(_es256_entry(sandbox))


def _claims(sandbox: Sandbox, **changed: Any) -> dict[str, Any]:
    now = int(time.time())
    base = {"iss": sandbox.issuer, "aud": MCP, "iat": now, "exp": now + 300, "sub": "alice"}
    return {**base, "scope": "photos.read", "client_id": "photo-printer", **changed}


def test_sandbox_signing_sets_any_audience_and_verifies(probe_sandbox: Sandbox) -> None:
    answer = _mint(probe_sandbox, {"claims": _claims(probe_sandbox, iss="https://evil.example")})
    assert answer.status_code == 200
    token = answer.json()["access_token"]
    key = _es256_key(probe_sandbox)
    verified = jws.deserialize_compact(token, KeySet([key]), algorithms=["ES256"])
    claims = json.loads(verified.payload)
    assert (claims["aud"], claims["iss"]) == (MCP, "https://evil.example")
    assert claims["jti"] == answer.json()["jti"]
    assert unverified_header(token) == {"alg": "ES256", "typ": "at+jwt", "kid": key.kid}


def test_sandbox_signed_token_is_stored(probe_sandbox: Sandbox) -> None:
    """Introspection and the resource server know it; a revoked one is inactive."""
    live = _mint(probe_sandbox, {"claims": _claims(probe_sandbox)}).json()["access_token"]
    dead = _mint(probe_sandbox, {"claims": _claims(probe_sandbox), "revoked": True})
    auth = ("photo-printer", probe_sandbox.secret)
    url = probe_sandbox.issuer + "/introspect"
    described = httpx.post(url, data={"token": live}, auth=auth).json()
    assert (described["active"], described["scope"]) == (True, "photos.read")
    gone = httpx.post(url, data={"token": dead.json()["access_token"]}, auth=auth).json()
    assert gone == {"active": False}
    api = httpx.get(
        probe_sandbox.issuer + "/api/photos", headers={"authorization": "Bearer " + live}
    )
    assert api.status_code == 200


def test_kid_null_leaves_the_header_out_and_a_string_is_used(probe_sandbox: Sandbox) -> None:
    bare = _mint(probe_sandbox, {"claims": {}, "signing": "none", "kid": None}).json()
    assert unverified_header(bare["access_token"]) == {"alg": "none", "typ": "at+jwt"}
    assert bare["access_token"].endswith(".")
    named = _mint(probe_sandbox, {"claims": {}, "signing": "unknown-key", "kid": "chosen"}).json()
    assert unverified_header(named["access_token"])["kid"] == "chosen"


def test_unknown_key_kid_is_not_published(probe_sandbox: Sandbox) -> None:
    token = _mint(probe_sandbox, {"claims": {}, "signing": "unknown-key"}).json()["access_token"]
    published = {k["kid"] for k in httpx.get(probe_sandbox.issuer + "/jwks.json").json()["keys"]}
    assert unverified_header(token)["kid"] not in published
    assert unverified_header(token)["alg"] == "ES256"


@pytest.mark.parametrize("signing", ["hs256-public-key", "hs256-public-jwk"])
def test_hs256_is_keyed_with_the_public_key(probe_sandbox: Sandbox, signing: str) -> None:
    """RFC 8725 §3.1: the MAC verifies with the published key's PEM (or JWK JSON) as secret."""
    key = _es256_key(probe_sandbox)
    token = _mint(probe_sandbox, {"claims": {"aud": MCP}, "signing": signing}).json()
    head, body, mac = token["access_token"].split(".")
    if signing == "hs256-public-key":
        secret = key.public_key.public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    else:
        secret = json.dumps(_es256_entry(probe_sandbox)).encode()
    expected = hmac.new(secret, f"{head}.{body}".encode(), hashlib.sha256).digest()
    assert base64url.decode(mac) == expected
    assert unverified_header(token["access_token"])["kid"] == key.kid
    assert unverified_claims(token["access_token"])["aud"] == MCP


@pytest.mark.parametrize(
    ("body", "says"),
    [
        (b"[1]", "the body must be a JSON object"),
        (b"{", "the body must be a JSON object"),
        ({"claims": []}, "claims must be a JSON object"),
        ({"claims": {"x": "y" * 17000}}, "claims must be a JSON object of at most 16 KiB"),
        ({"signing": "rs256"}, "signing is one of"),
        ({"kid": 7}, "kid is a non-empty string"),
        ({"kid": ""}, "kid is a non-empty string"),
        ({"revoked": "yes"}, "revoked is true or false"),
    ],
)
def test_bad_input_is_400(probe_sandbox: Sandbox, body: dict[str, Any] | bytes, says: str) -> None:
    answer = _mint(probe_sandbox, body)
    assert answer.status_code == 400
    assert answer.json()["error"] == "invalid_request"
    assert answer.json()["error_description"].startswith(says)


def test_mint_needs_the_admin_token(probe_sandbox: Sandbox) -> None:
    answer = httpx.post(probe_sandbox.issuer + "/probe/mint", content=b"{}")
    assert answer.status_code == 401
    assert answer.headers["www-authenticate"] == 'Bearer realm="valetkey-admin"'


def test_mint_is_off_without_probe_mode(sandbox: Sandbox, tmp_path: Path) -> None:
    answer = httpx.post(
        sandbox.issuer + "/probe/mint",
        content=b"{}",
        headers={"authorization": f"Bearer {sandbox.admin_token}"},
    )
    assert answer.status_code == 404
    assert answer.json()["error_description"] == "start the sandbox with --probe-mode"

"""DPoP (RFC 9449): tokens bound to the client's key, refused without a proof by that key."""

from __future__ import annotations

import time

import httpx
import pytest

from tests.support.sandbox import Sandbox, demo_browser
from valetkey.probe.dpop import DpopKey


def _bound_tokens(sandbox: Sandbox, key: DpopKey) -> dict[str, str]:
    agent = demo_browser(sandbox.issuer)
    try:
        code, auth = agent.code("alice", sandbox.password("alice"))
    finally:
        agent.close()
    answer = sandbox.redeem(code, auth.verifier, dpop=key.proof("POST", sandbox.issuer + "/token"))
    assert answer.status_code == 200, answer.text
    return dict(answer.json())


def test_bound_token_needs_a_proof_by_its_key(sandbox: Sandbox) -> None:
    key = DpopKey()
    tokens = _bound_tokens(sandbox, key)
    assert tokens["token_type"] == "DPoP"
    url = sandbox.issuer + "/api/photos"
    access = tokens["access_token"]
    as_bearer = httpx.get(url, headers={"authorization": f"Bearer {access}"})
    assert as_bearer.status_code == 401
    no_proof = httpx.get(url, headers={"authorization": f"DPoP {access}"})
    assert no_proof.status_code == 401
    assert no_proof.headers["www-authenticate"].startswith(
        'DPoP realm="valetkey", error="invalid_dpop_proof"'
    )
    other = DpopKey().proof("GET", url, access)
    assert (
        httpx.get(url, headers={"authorization": f"DPoP {access}", "dpop": other}).status_code
        == 401
    )
    proof = key.proof("GET", url, access)
    good = httpx.get(url, headers={"authorization": f"DPoP {access}", "dpop": proof})
    assert good.status_code == 200
    replay = httpx.get(url, headers={"authorization": f"DPoP {access}", "dpop": proof})
    assert replay.status_code == 401  # jti used before


@pytest.mark.parametrize(
    ("method", "path", "iat_offset", "fragment"),
    [
        ("GET", "/token", 0, "htm, htu"),
        ("POST", "/other", 0, "htm, htu"),
        ("POST", "/token", -600, "iat"),
    ],
)
def test_bad_proof_at_the_token_endpoint(
    sandbox: Sandbox, method: str, path: str, iat_offset: int, fragment: str
) -> None:
    proof = DpopKey().proof(method, sandbox.issuer + path, iat=time.time() + iat_offset)
    answer = httpx.post(
        sandbox.issuer + "/token",
        auth=("photo-printer", sandbox.secret),
        data={"grant_type": "refresh_token", "refresh_token": "x"},
        headers={"dpop": proof},
    )
    assert answer.status_code == 400
    assert answer.json()["error"] == "invalid_dpop_proof"
    assert fragment in answer.json()["error_description"]


def test_metadata_offers_dpop(sandbox: Sandbox) -> None:
    meta = httpx.get(sandbox.issuer + "/.well-known/openid-configuration").json()
    assert meta["dpop_signing_alg_values_supported"] == ["ES256", "RS256", "PS256"]

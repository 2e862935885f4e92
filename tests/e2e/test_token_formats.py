"""Token formats: RFC 9068 access tokens, OIDC ID tokens (RS256 and ES256), at_hash, JWKS."""

from __future__ import annotations

import httpx
from joserfc import jwt
from joserfc.jwk import KeySet

from tests.support.sandbox import REDIRECT, Sandbox, demo_browser
from valetkey.oauth.base64url import left_half_hash as at_hash
from valetkey.useragent.agent import UserAgent


def _exchange(
    sandbox: Sandbox, agent: UserAgent, client: str, secret: str, **overrides: str
) -> dict[str, str]:
    code, auth = agent.code("alice", sandbox.password("alice"), client_id=client, **overrides)
    response = httpx.post(
        sandbox.issuer + "/token",
        auth=(client, secret),
        data={
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": REDIRECT,
            "code_verifier": auth.verifier,
        },
    )
    assert response.status_code == 200, response.text
    return dict(response.json())


def _keys(sandbox: Sandbox) -> KeySet:
    return KeySet.import_key_set(httpx.get(sandbox.issuer + "/jwks.json").json())


def test_access_token_is_rfc9068(sandbox: Sandbox, agent: UserAgent) -> None:
    tokens = _exchange(sandbox, agent, "photo-printer", sandbox.secret)
    decoded = jwt.decode(tokens["access_token"], _keys(sandbox), algorithms=["ES256"])
    assert decoded.header["typ"] == "at+jwt"
    assert decoded.header["alg"] == "ES256"
    claims = decoded.claims
    assert claims["iss"] == sandbox.issuer
    assert claims["aud"] == sandbox.issuer + "/api"
    assert claims["client_id"] == "photo-printer"
    assert claims["scope"] == "openid profile photos.read"
    assert claims["exp"] - claims["iat"] == 300
    assert len(claims["jti"]) == 32


def test_id_token_claims_and_at_hash(sandbox: Sandbox, agent: UserAgent) -> None:
    tokens = _exchange(sandbox, agent, "photo-printer", sandbox.secret, nonce="n-0123456789")
    decoded = jwt.decode(tokens["id_token"], _keys(sandbox), algorithms=["RS256"])
    claims = decoded.claims
    assert decoded.header["kid"] in {
        k["kid"] for k in httpx.get(sandbox.issuer + "/jwks.json").json()["keys"]
    }
    assert claims["nonce"] == "n-0123456789"
    assert claims["at_hash"] == at_hash(tokens["access_token"])
    assert claims["aud"] == "photo-printer"
    assert isinstance(claims["auth_time"], int)
    assert "email" not in claims  # the email scope was not asked for


def test_es256_id_tokens_for_a_client_that_registers_them(sandbox: Sandbox) -> None:
    sandbox.add_client("es-app", "es-app-secret-0123456789", (REDIRECT,), id_token_alg="ES256")
    agent = demo_browser(sandbox.issuer)
    try:
        tokens = _exchange(sandbox, agent, "es-app", "es-app-secret-0123456789")
    finally:
        agent.close()
    decoded = jwt.decode(tokens["id_token"], _keys(sandbox), algorithms=["ES256"])
    assert decoded.header["alg"] == "ES256"
    assert decoded.claims["aud"] == "es-app"


def test_discovery_documents_agree(sandbox: Sandbox) -> None:
    """AS-01, AS-03, AS-14."""
    oidc = httpx.get(sandbox.issuer + "/.well-known/openid-configuration").json()
    oauth = httpx.get(sandbox.issuer + "/.well-known/oauth-authorization-server").json()
    assert oidc == oauth
    assert oidc["issuer"] == sandbox.issuer
    assert oidc["code_challenge_methods_supported"] == ["S256"]
    assert oidc["response_types_supported"] == ["code"]
    assert oidc["authorization_response_iss_parameter_supported"] is True
    assert "password" not in oidc["grant_types_supported"]
    for key in (
        "authorization_endpoint",
        "token_endpoint",
        "userinfo_endpoint",
        "jwks_uri",
        "revocation_endpoint",
        "introspection_endpoint",
        "end_session_endpoint",
    ):
        assert oidc[key].startswith(sandbox.issuer + "/")
        assert httpx.get(oidc[key]).status_code < 500
    keys = httpx.get(oidc["jwks_uri"]).json()["keys"]
    assert sorted(k["alg"] for k in keys) == ["ES256", "RS256"]
    assert all("d" not in k for k in keys), "no private parts in the JWKS"

"""A third-party client (Authlib's httpx OAuth2Client) runs the whole flow against the sandbox."""

from __future__ import annotations

import httpx
from authlib.integrations.httpx_client import OAuth2Client
from joserfc import jwt
from joserfc.jwk import KeySet

from tests.support.sandbox import REDIRECT, Sandbox
from valetkey.useragent.agent import UserAgent


def _client(sandbox: Sandbox) -> OAuth2Client:
    return OAuth2Client(
        client_id="photo-printer",
        client_secret=sandbox.secret,
        redirect_uri=REDIRECT,
        scope="openid profile email photos.read offline_access",
        code_challenge_method="S256",
        timeout=10,
    )


def test_full_flow_with_authlib(sandbox: Sandbox, agent: UserAgent) -> None:
    meta = httpx.get(sandbox.issuer + "/.well-known/openid-configuration").json()
    client = _client(sandbox)
    verifier = "v" * 20 + "erifier-of-fifty-characters-long-0123456789"
    url, state = client.create_authorization_url(
        meta["authorization_endpoint"], nonce="nonce-authlib-1", code_verifier=verifier
    )
    agent_url = url.removeprefix(sandbox.issuer)
    response = agent.http.get(agent_url)
    assert response.status_code == 302
    callback = _through_forms(agent, response, "alice", sandbox.password("alice"))
    assert callback.startswith(REDIRECT)
    assert httpx.URL(callback).params["iss"] == sandbox.issuer  # RFC 9207

    token = client.fetch_token(
        meta["token_endpoint"],
        authorization_response=callback,
        code_verifier=verifier,
        state=state,
    )
    assert token["token_type"] == "Bearer"
    assert token["expires_in"] == 300

    keys = KeySet.import_key_set(httpx.get(meta["jwks_uri"]).json())
    decoded = jwt.decode(token["id_token"], keys, algorithms=["RS256"])
    assert decoded.header["alg"] == "RS256"
    claims = decoded.claims
    assert claims["iss"] == sandbox.issuer
    assert claims["aud"] == "photo-printer"
    assert claims["nonce"] == "nonce-authlib-1"
    assert claims["email"] == "alice@example.org"
    registry = jwt.JWTClaimsRegistry(
        iss={"essential": True, "value": sandbox.issuer},
        aud={"essential": True, "value": "photo-printer"},
    )
    registry.validate(claims)

    photos = client.get(sandbox.issuer + "/api/photos")
    assert photos.status_code == 200
    assert photos.json()["owner"] == "alice"
    assert [p["id"] for p in photos.json()["photos"]][:2] == ["p-101", "p-102"]

    old_refresh = token["refresh_token"]
    refreshed = client.refresh_token(meta["token_endpoint"], refresh_token=old_refresh)
    assert refreshed["refresh_token"] != old_refresh  # rotation (AS-26)
    assert client.get(sandbox.issuer + "/api/photos").status_code == 200

    revoked = client.revoke_token(
        meta["revocation_endpoint"], refreshed["refresh_token"], token_type_hint="refresh_token"
    )
    assert revoked.status_code == 200
    after = client.get(sandbox.issuer + "/api/photos")
    assert after.status_code == 401
    assert after.headers["www-authenticate"].startswith(
        'Bearer realm="valetkey", error="invalid_token"'
    )


def _through_forms(agent: UserAgent, response: httpx.Response, user: str, password: str) -> str:
    for _ in range(4):
        location = response.headers["location"]
        if location.startswith("/login"):
            response = agent.login(location, user, password)
        elif location.startswith("/consent"):
            response = agent.consent(location)
        else:
            return location
    raise AssertionError("the flow did not come back to the client")


def test_userinfo_with_authlib_token(sandbox: Sandbox, agent: UserAgent) -> None:
    client = _client(sandbox)
    code, auth = agent.code("alice", sandbox.password("alice"))
    token = client.fetch_token(sandbox.issuer + "/token", code=code, code_verifier=auth.verifier)
    info = client.get(sandbox.issuer + "/userinfo")
    assert info.status_code == 200
    assert info.json()["preferred_username"] == "alice"
    assert set(info.json()) == {"sub", "preferred_username", "name", "given_name"}
    assert token["scope"] == "openid profile photos.read"

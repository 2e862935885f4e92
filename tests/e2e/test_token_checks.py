"""The token endpoint's checks (and revocation, userinfo, resource server), over real HTTP."""

from __future__ import annotations

import base64
import concurrent.futures
import time
from pathlib import Path

import httpx
import pytest

from tests.support.sandbox import REDIRECT, Sandbox, demo_browser, start_sandbox
from valetkey.oauth.pkce import Pkce
from valetkey.useragent.agent import UserAgent


def _token(
    sandbox: Sandbox, data: dict[str, str], auth: tuple[str, str] | None = None, **kwargs: object
) -> httpx.Response:
    if auth is None:
        auth = ("photo-printer", sandbox.secret)
    return httpx.post(sandbox.issuer + "/token", data=data, auth=auth, timeout=10, **kwargs)  # type: ignore[arg-type]


def _exchange(sandbox: Sandbox, code: str, verifier: str, **extra: str) -> httpx.Response:
    data = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": REDIRECT,
        "code_verifier": verifier,
        **extra,
    }
    return _token(sandbox, data)


def _error(response: httpx.Response, status: int, error: str) -> None:
    assert response.status_code == status, response.text
    assert response.json()["error"] == error
    assert response.headers["cache-control"] == "no-store"


def test_success_headers_and_expiry(agent: UserAgent, sandbox: Sandbox) -> None:
    code, auth = agent.code("alice", sandbox.password("alice"))
    response = _exchange(sandbox, code, auth.verifier)
    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-store"  # AS-25
    assert response.headers["pragma"] == "no-cache"
    body = response.json()
    assert body["expires_in"] == 300  # AS-28
    assert set(body) == {
        "access_token",
        "token_type",
        "expires_in",
        "scope",
        "refresh_token",
        "id_token",
    }


def test_code_works_once_and_replay_revokes(agent: UserAgent, sandbox: Sandbox) -> None:
    """AS-15, AS-16."""
    code, auth = agent.code("alice", sandbox.password("alice"))
    first = _exchange(sandbox, code, auth.verifier)
    assert first.status_code == 200
    token = first.json()["access_token"]
    headers = {"authorization": f"Bearer {token}"}
    assert httpx.get(sandbox.issuer + "/api/photos", headers=headers).status_code == 200
    _error(_exchange(sandbox, code, auth.verifier), 400, "invalid_grant")
    assert httpx.get(sandbox.issuer + "/api/photos", headers=headers).status_code == 401
    refresh = {"grant_type": "refresh_token", "refresh_token": first.json()["refresh_token"]}
    _error(_token(sandbox, refresh), 400, "invalid_grant")


def test_concurrent_redemptions_give_one_success(agent: UserAgent, sandbox: Sandbox) -> None:
    """AS-17: a small burst on loopback."""
    code, auth = agent.code("alice", sandbox.password("alice"))
    with concurrent.futures.ThreadPoolExecutor(25) as pool:
        statuses = list(
            pool.map(lambda _: _exchange(sandbox, code, auth.verifier).status_code, range(50))
        )
    assert sorted(statuses) == [200] + [400] * 49


@pytest.mark.parametrize(
    ("verifier_kind", "error"),
    [
        ("missing", "invalid_grant"),  # AS-04
        ("wrong", "invalid_grant"),  # AS-04
        ("short", "invalid_request"),  # AS-07
    ],
)
def test_pkce_verifier(agent: UserAgent, sandbox: Sandbox, verifier_kind: str, error: str) -> None:
    code, _auth = agent.code("alice", sandbox.password("alice"))
    data = {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT}
    if verifier_kind == "wrong":
        data["code_verifier"] = Pkce.new().verifier
    if verifier_kind == "short":
        data["code_verifier"] = "a" * 42
    _error(_token(sandbox, data), 400, error)


def test_short_verifier_refused_even_if_it_matches(sandbox: Sandbox) -> None:
    """AS-07: a 42-character verifier whose S256 was sent as the challenge is still refused."""
    from valetkey.oauth.pkce import s256

    agent = demo_browser(sandbox.issuer)
    try:
        short = "b" * 42
        code, _ = agent.code("alice", sandbox.password("alice"), code_challenge=s256(short))
        data = {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": REDIRECT,
            "code_verifier": short,
        }
        response = _token(sandbox, data)
        _error(response, 400, "invalid_request")
        assert "43 to 128" in response.json()["error_description"]
    finally:
        agent.close()


def test_redirect_uri_must_match_at_token(agent: UserAgent, sandbox: Sandbox) -> None:
    """AS-11."""
    code, auth = agent.code("alice", sandbox.password("alice"))
    response = _exchange(
        sandbox, code, auth.verifier, redirect_uri="http://localhost:8500/callback"
    )
    _error(response, 400, "invalid_grant")
    assert response.json()["error_description"] == (
        "redirect_uri does not match the authorization request"
    )


def test_code_bound_to_client(agent: UserAgent, sandbox: Sandbox) -> None:
    """AS-19."""
    sandbox.add_client("other-app", "other-app-secret-0123456789", (REDIRECT,))
    code, auth = agent.code("alice", sandbox.password("alice"))
    data = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": REDIRECT,
        "code_verifier": auth.verifier,
    }
    _error(
        _token(sandbox, data, auth=("other-app", "other-app-secret-0123456789")),
        400,
        "invalid_grant",
    )
    assert _exchange(sandbox, code, auth.verifier).status_code == 200


@pytest.mark.parametrize(
    ("auth", "body_extra", "status", "error"),
    [
        (("photo-printer", "wrong-secret"), {}, 401, "invalid_client"),
        (("nobody", "x"), {}, 401, "invalid_client"),
        (None, {"client_id": "photo-printer"}, 401, "invalid_client"),  # AS-23: no secret
        (None, {"client_id": "photo-printer", "client_secret": "wrong"}, 401, "invalid_client"),
    ],
)
def test_client_authentication(
    sandbox: Sandbox,
    auth: tuple[str, str] | None,
    body_extra: dict[str, str],
    status: int,
    error: str,
) -> None:
    data = {"grant_type": "client_credentials", **body_extra}
    response = httpx.post(sandbox.issuer + "/token", data=data, auth=auth)  # type: ignore[arg-type]
    _error(response, status, error)
    assert response.headers["www-authenticate"] == 'Basic realm="valetkey", charset="UTF-8"'


def test_secret_in_query_string_refused(sandbox: Sandbox) -> None:
    """AS-23."""
    response = httpx.post(
        sandbox.issuer + "/token",
        params={"client_id": "photo-printer", "client_secret": sandbox.secret},
        data={"grant_type": "authorization_code", "code": "x"},
    )
    _error(response, 400, "invalid_request")


def test_two_auth_methods_refused(sandbox: Sandbox) -> None:
    response = _token(
        sandbox, {"grant_type": "authorization_code", "code": "x", "client_secret": sandbox.secret}
    )
    _error(response, 400, "invalid_request")


def test_basic_credentials_are_form_decoded(sandbox: Sandbox) -> None:
    """RFC 6749 §2.3.1: id and secret are form-urlencoded before Basic encoding."""
    sandbox.add_client(
        "app:with space",
        "s3cret/with+plus%",
        (REDIRECT,),
        grants=("client_credentials",),
        scopes="photos.read",
    )
    raw = base64.b64encode(b"app%3Awith+space:s3cret%2Fwith%2Bplus%25").decode()
    response = httpx.post(
        sandbox.issuer + "/token",
        data={"grant_type": "client_credentials"},
        headers={"authorization": f"Basic {raw}"},
    )
    assert response.status_code == 200, response.text
    assert "refresh_token" not in response.json()  # AS-27


def test_get_is_refused(sandbox: Sandbox) -> None:
    """AS-24."""
    response = httpx.get(sandbox.issuer + "/token")
    assert response.status_code == 405
    assert response.headers["allow"] == "POST"
    assert response.json()["error"] == "invalid_request"


def test_duplicate_parameter_refused(sandbox: Sandbox) -> None:
    """AS-24."""
    response = _token(
        sandbox,
        content=b"grant_type=client_credentials&grant_type=password",  # type: ignore[arg-type]
        data=None,
        headers={"content-type": "application/x-www-form-urlencoded"},
    )
    _error(response, 400, "invalid_request")


def test_password_grant_refused(sandbox: Sandbox) -> None:
    """AS-22."""
    response = _token(
        sandbox,
        {"grant_type": "password", "username": "alice", "password": sandbox.password("alice")},
    )
    _error(response, 400, "unsupported_grant_type")


def test_grant_not_registered_for_client(sandbox: Sandbox) -> None:
    _error(_token(sandbox, {"grant_type": "client_credentials"}), 400, "unauthorized_client")


def test_client_credentials_scope(sandbox: Sandbox) -> None:
    """AS-27, AS-43."""
    sandbox.add_client(
        "batch-job",
        "batch-secret-0123456789",
        (),
        scopes="photos.read",
        grants=("client_credentials",),
    )
    auth = ("batch-job", "batch-secret-0123456789")
    ok = _token(sandbox, {"grant_type": "client_credentials"}, auth=auth)
    assert ok.status_code == 200
    assert ok.json()["scope"] == "photos.read"
    assert "refresh_token" not in ok.json()
    assert "id_token" not in ok.json()
    _error(
        _token(sandbox, {"grant_type": "client_credentials", "scope": "admin"}, auth=auth),
        400,
        "invalid_scope",
    )


def test_refresh_rotation_replay_and_binding(agent: UserAgent, sandbox: Sandbox) -> None:
    """AS-26: rotation; replay revokes the family; bound to the client; AS-43 no upgrade."""
    code, auth = agent.code("alice", sandbox.password("alice"))
    first = _exchange(sandbox, code, auth.verifier).json()
    other = ("other-app-2", "other-secret-0123456789")
    sandbox.add_client(other[0], other[1], (REDIRECT,))
    stolen = {"grant_type": "refresh_token", "refresh_token": first["refresh_token"]}
    _error(_token(sandbox, stolen, auth=other), 400, "invalid_grant")
    upgrade = {**stolen, "scope": "openid profile photos.read email"}
    _error(_token(sandbox, upgrade), 400, "invalid_scope")
    narrowed = _token(sandbox, {**stolen, "scope": "photos.read"})
    assert narrowed.status_code == 200
    assert narrowed.json()["scope"] == "photos.read"
    second = narrowed.json()
    _error(_token(sandbox, stolen), 400, "invalid_grant")  # replay of the used one
    again = {"grant_type": "refresh_token", "refresh_token": second["refresh_token"]}
    _error(_token(sandbox, again), 400, "invalid_grant")  # the family is gone
    headers = {"authorization": f"Bearer {second['access_token']}"}
    assert httpx.get(sandbox.issuer + "/api/photos", headers=headers).status_code == 401


def test_concurrent_refresh_gives_at_most_one(agent: UserAgent, sandbox: Sandbox) -> None:
    code, auth = agent.code("alice", sandbox.password("alice"))
    refresh = _exchange(sandbox, code, auth.verifier).json()["refresh_token"]
    data = {"grant_type": "refresh_token", "refresh_token": refresh}
    with concurrent.futures.ThreadPoolExecutor(25) as pool:
        answers = list(pool.map(lambda _: _token(sandbox, data), range(50)))
    winners = [a for a in answers if a.status_code == 200]
    assert len(winners) <= 1
    assert sum(a.status_code == 400 for a in answers) >= 49
    for winner in winners:  # the replays revoked the family, the winner's tokens included
        again = {"grant_type": "refresh_token", "refresh_token": winner.json()["refresh_token"]}
        assert _token(sandbox, again).json()["error"] == "invalid_grant"


def test_resource_server_bearer_rules(agent: UserAgent, sandbox: Sandbox) -> None:
    """AS-30 and RFC 6750 §3 challenges."""
    code, auth = agent.code("alice", sandbox.password("alice"), scope="openid profile")
    token = _exchange(sandbox, code, auth.verifier).json()["access_token"]
    api = sandbox.issuer + "/api/photos"
    in_query = httpx.get(api, params={"access_token": token})
    assert in_query.status_code == 400
    assert in_query.json()["error"] == "invalid_request"
    info_query = httpx.get(sandbox.issuer + "/userinfo", params={"access_token": token})
    assert info_query.status_code == 400
    missing = httpx.get(api)
    assert missing.status_code == 401
    assert missing.headers["www-authenticate"] == 'Bearer realm="valetkey"'
    scope = httpx.get(api, headers={"authorization": f"Bearer {token}"})
    assert scope.status_code == 403
    assert scope.headers["www-authenticate"] == (
        'Bearer realm="valetkey", error="insufficient_scope", '
        'error_description="this call needs the scope photos.read", scope="photos.read"'
    )
    forged = httpx.get(api, headers={"authorization": f"Bearer {token[:-4]}AAAA"})
    assert forged.status_code == 401
    assert 'error="invalid_token"' in forged.headers["www-authenticate"]
    assert (
        httpx.get(
            sandbox.issuer + "/api/user", headers={"authorization": f"Bearer {token}"}
        ).json()["username"]
        == "alice"
    )


def test_revocation_needs_auth_and_only_own_tokens(agent: UserAgent, sandbox: Sandbox) -> None:
    """AS-40."""
    code, auth = agent.code("alice", sandbox.password("alice"))
    access = _exchange(sandbox, code, auth.verifier).json()["access_token"]
    revoke = sandbox.issuer + "/revoke"
    _error(httpx.post(revoke, data={"token": access}), 401, "invalid_client")
    other = ("other-app-3", "other-secret-3-0123456789")
    sandbox.add_client(other[0], other[1], (REDIRECT,))
    assert httpx.post(revoke, data={"token": access}, auth=other).status_code == 200
    headers = {"authorization": f"Bearer {access}"}
    assert httpx.get(sandbox.issuer + "/api/photos", headers=headers).status_code == 200
    owner = ("photo-printer", sandbox.secret)
    assert httpx.post(revoke, data={"token": access}, auth=owner).status_code == 200
    assert httpx.get(sandbox.issuer + "/api/photos", headers=headers).status_code == 401


def test_introspection(agent: UserAgent, sandbox: Sandbox) -> None:
    code, auth = agent.code("alice", sandbox.password("alice"))
    tokens = _exchange(sandbox, code, auth.verifier).json()
    owner = ("photo-printer", sandbox.secret)
    url = sandbox.issuer + "/introspect"
    active = httpx.post(url, data={"token": tokens["access_token"]}, auth=owner).json()
    assert active["active"] is True
    assert active["username"] == "alice"
    assert active["scope"] == "openid profile photos.read"
    assert active["aud"] == sandbox.issuer + "/api"
    assert httpx.post(url, data={"token": "nonsense"}, auth=owner).json() == {"active": False}
    _error(httpx.post(url, data={"token": tokens["access_token"]}), 401, "invalid_client")


@pytest.mark.slow
def test_codes_expire(tmp_path: Path) -> None:
    """AS-18 with a 1-second code lifetime."""
    sandbox = start_sandbox(tmp_path, env={"VALETKEY_CODE_TTL": "1"})
    agent = demo_browser(sandbox.issuer)
    try:
        code, auth = agent.code("alice", sandbox.password("alice"))
        time.sleep(1.2)
        _error(_exchange(sandbox, code, auth.verifier), 400, "invalid_grant")
    finally:
        agent.close()
        sandbox.stop()


def test_opaque_access_tokens(tmp_path: Path) -> None:
    sandbox = start_sandbox(tmp_path, "--access-token-format", "opaque")
    agent = demo_browser(sandbox.issuer)
    try:
        code, auth = agent.code("alice", sandbox.password("alice"))
        tokens = _exchange(sandbox, code, auth.verifier).json()
        assert tokens["access_token"].startswith("vk_at_")
        assert "." not in tokens["access_token"]
        headers = {"authorization": f"Bearer {tokens['access_token']}"}
        assert httpx.get(sandbox.issuer + "/api/photos", headers=headers).status_code == 200
    finally:
        agent.close()
        sandbox.stop()


def test_codes_and_tokens_carry_256_bits(agent: UserAgent, sandbox: Sandbox) -> None:
    """AS-20: 32 random bytes, base64url: 43 characters after any prefix."""
    code, auth = agent.code("alice", sandbox.password("alice"))
    assert len(code) == 43
    tokens = _exchange(sandbox, code, auth.verifier).json()
    assert tokens["refresh_token"].startswith("vk_rt_")
    assert len(tokens["refresh_token"]) == len("vk_rt_") + 43

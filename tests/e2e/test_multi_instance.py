"""Two `valetkey serve` processes on one PostgreSQL database behave as one provider."""

from __future__ import annotations

import concurrent.futures
import time
from collections.abc import Iterator

import httpx
import pytest

from tests.support.postgres import fresh_database
from tests.support.sandbox import REDIRECT, Sandbox, demo_browser, start_sandbox
from valetkey.probe.dpop import DpopKey
from valetkey.useragent.authorization import Authorization

pytestmark = [pytest.mark.postgres, pytest.mark.slow]


@pytest.fixture(scope="module")
def pair(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Sandbox, Sandbox]]:
    with fresh_database() as url:
        first = start_sandbox(tmp_path_factory.mktemp("one"), db=url)
        second = start_sandbox(tmp_path_factory.mktemp("two"), "--issuer", first.issuer, db=url)
        second.creds = first.creds  # the demo data was made once, by the first
        try:
            yield first, second
        finally:
            second.stop()
            first.stop()


def test_keys_are_shared(pair: tuple[Sandbox, Sandbox]) -> None:
    one, two = pair
    assert two.issuer == one.issuer
    assert two.url != one.url
    assert httpx.get(one.url + "/jwks.json").json() == httpx.get(two.url + "/jwks.json").json()


def _code(sandbox: Sandbox) -> tuple[str, Authorization]:
    """alice signs in through the first instance's pages; the code it hands back."""
    agent = demo_browser(sandbox.issuer)
    try:
        return agent.code("alice", sandbox.password("alice"))
    finally:
        agent.close()


def _token(base: str, secret: str, data: dict[str, str]) -> httpx.Response:
    return httpx.post(base + "/token", data=data, auth=("photo-printer", secret), timeout=10)


def test_flow_started_on_one_finishes_on_the_other(pair: tuple[Sandbox, Sandbox]) -> None:
    one, two = pair
    code, auth = _code(one)
    tokens = _token(
        two.url,
        one.secret,
        {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": REDIRECT,
            "code_verifier": auth.verifier,
        },
    )
    assert tokens.status_code == 200, tokens.text
    access = tokens.json()["access_token"]
    assert (
        httpx.get(
            one.issuer + "/api/photos", headers={"authorization": f"Bearer {access}"}
        ).status_code
        == 200
    )
    revoked = httpx.post(
        two.url + "/revoke", data={"token": access}, auth=("photo-printer", one.secret)
    )
    assert revoked.status_code == 200
    assert (
        httpx.get(
            one.issuer + "/api/photos", headers={"authorization": f"Bearer {access}"}
        ).status_code
        == 401
    )


def test_one_code_redeemed_by_fifty_requests_across_both(pair: tuple[Sandbox, Sandbox]) -> None:
    one, two = pair
    code, auth = _code(one)
    bases = [one.issuer, two.url]
    data = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": REDIRECT,
        "code_verifier": auth.verifier,
    }
    with concurrent.futures.ThreadPoolExecutor(25) as pool:
        statuses = list(
            pool.map(lambda i: _token(bases[i % 2], one.secret, data).status_code, range(50))
        )
    assert statuses.count(200) == 1
    assert statuses.count(400) == 49


def test_rotation_on_one_reaches_the_other(pair: tuple[Sandbox, Sandbox]) -> None:
    one, two = pair
    admin = {"authorization": f"Bearer {one.admin_token}"}
    rotated = httpx.post(one.issuer + "/admin/keys/rotate", headers=admin).json()
    new = set(rotated["signing"].values())
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        kids = {k["kid"] for k in httpx.get(two.url + "/jwks.json").json()["keys"]}
        if new <= kids:
            break
        time.sleep(0.5)
    assert new <= kids


def test_one_refresh_token_used_fifty_times_across_both(pair: tuple[Sandbox, Sandbox]) -> None:
    one, two = pair
    code, auth = _code(one)
    tokens = _token(
        one.url,
        one.secret,
        {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": REDIRECT,
            "code_verifier": auth.verifier,
        },
    ).json()
    data = {"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]}
    bases = [one.url, two.url]
    with concurrent.futures.ThreadPoolExecutor(25) as pool:
        answers = list(pool.map(lambda i: _token(bases[i % 2], one.secret, data), range(50)))
    winners = [a for a in answers if a.status_code == 200]
    assert len(winners) <= 1
    for winner in winners:
        again = {"grant_type": "refresh_token", "refresh_token": winner.json()["refresh_token"]}
        assert _token(two.url, one.secret, again).json()["error"] == "invalid_grant"


def _redeem(base: str, sandbox: Sandbox, **headers: str) -> httpx.Response:
    """alice's code, got through the first instance, redeemed at `base`."""
    data = _exchange(*_code(sandbox))
    return httpx.post(
        base + "/token", data=data, auth=("photo-printer", sandbox.secret), headers=headers
    )


def _exchange(code: str, auth: Authorization) -> dict[str, str]:
    """The authorization-code token request's parameters (RFC 6749 §4.1.3, RFC 7636 §4.5)."""
    return {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": REDIRECT,
        "code_verifier": auth.verifier,
    }


def test_dpop_proof_used_at_one_is_a_replay_at_the_other(pair: tuple[Sandbox, Sandbox]) -> None:
    one, two = pair
    key = DpopKey()
    proof = key.proof("POST", one.issuer + "/token")  # both instances have this issuer
    tokens = _redeem(one.url, one, dpop=proof)
    assert tokens.status_code == 200, tokens.text
    assert tokens.json()["token_type"] == "DPoP"
    refresh = {"grant_type": "refresh_token", "refresh_token": tokens.json()["refresh_token"]}
    replayed = httpx.post(
        two.url + "/token",
        data=refresh,
        auth=("photo-printer", one.secret),
        headers={"dpop": proof},
    )
    assert replayed.status_code == 400
    assert replayed.json()["error"] == "invalid_dpop_proof"
    assert "used before" in replayed.json()["error_description"]
    # the resource server too: a proof that one accepted is refused by two
    access = tokens.json()["access_token"]
    api = one.issuer + "/api/photos"
    headers = {"authorization": f"DPoP {access}", "dpop": key.proof("GET", api, access)}
    assert httpx.get(one.url + "/api/photos", headers=headers).status_code == 200
    again = httpx.get(two.url + "/api/photos", headers=headers)
    assert again.status_code == 401
    assert again.headers["www-authenticate"].startswith(
        'DPoP realm="valetkey", error="invalid_dpop_proof"'
    )


def _advance(base: str, sandbox: Sandbox, seconds: float) -> dict[str, float]:
    response = httpx.post(
        base + "/admin/clock",
        json={"advance": seconds},
        headers={"authorization": f"Bearer {sandbox.admin_token}"},
    )
    assert response.status_code == 200, response.text
    return dict(response.json())


def _id_token_claims(sandbox: Sandbox, tokens: httpx.Response) -> dict[str, object]:
    from joserfc import jwt
    from joserfc.jwk import KeySet

    assert tokens.status_code == 200, tokens.text
    keys = KeySet.import_key_set(httpx.get(sandbox.url + "/jwks.json").json())
    return dict(jwt.decode(tokens.json()["id_token"], keys).claims)


def test_claims_queued_at_one_go_into_the_next_id_token_from_the_other(
    pair: tuple[Sandbox, Sandbox],
) -> None:
    one, two = pair
    admin = {"authorization": f"Bearer {one.admin_token}"}
    for claims in ({"role": "auditor", "team": "a"}, {"team": "b"}):  # the later one wins
        body = {"username": "alice", "claims": claims}
        queued = httpx.post(one.url + "/admin/claims", json=body, headers=admin)
        assert queued.status_code == 200, queued.text
    first = _id_token_claims(two, _redeem(two.url, one))
    assert (first["role"], first["team"]) == ("auditor", "b")
    again = _id_token_claims(one, _redeem(one.url, one))  # taken once, by two
    assert "role" not in again
    assert "team" not in again


def _inject(sandbox: Sandbox, fault: dict[str, object]) -> None:
    admin = {"authorization": f"Bearer {sandbox.admin_token}"}
    armed = httpx.post(sandbox.url + "/admin/faults", json=fault, headers=admin)
    assert armed.status_code == 200, armed.text


def test_a_fault_injected_at_one_is_met_at_either_exactly_its_count(
    pair: tuple[Sandbox, Sandbox],
) -> None:
    """Three 503s for /token, injected at the first: the next three token requests meet
    them, whichever instance they reach, and the fourth is answered as usual."""
    one, two = pair
    _inject(one, {"path": "/token", "count": 3, "status": 503})
    body = {"grant_type": "refresh_token", "refresh_token": "not-a-token"}
    statuses = [_token(base, one.secret, body).status_code for base in (two.url, one.url, two.url)]
    assert statuses == [503, 503, 503]
    after = _token(one.url, one.secret, body)
    assert (after.status_code, after.json()["error"]) == (400, "invalid_grant")


def test_a_jwks_fault_injected_at_one_is_met_at_the_other(pair: tuple[Sandbox, Sandbox]) -> None:
    """The JWKS is answered on the event loop; on a shared database a fault for it is still
    looked up first (a malformed body once, then a 0.3 s delay once, then as usual)."""
    one, two = pair
    _inject(one, {"path": "/jwks.json", "malformed": True})
    broken = httpx.get(two.url + "/jwks.json")
    assert (broken.status_code, broken.content) == (200, b"{not json")
    _inject(two, {"path": "/jwks.json", "delay": 0.3})
    started = time.monotonic()
    slow = httpx.get(one.url + "/jwks.json")
    assert slow.status_code == 200
    assert time.monotonic() - started >= 0.3
    assert "keys" in httpx.get(two.url + "/jwks.json").json()


def test_a_client_removed_at_one_is_refused_at_the_other(pair: tuple[Sandbox, Sandbox]) -> None:
    """The second instance used the client before (it keeps it parsed between changes to
    the clients table); the removal at the first moves the table's version, so the next
    request at the second reads the table and finds no client."""
    one, two = pair
    admin = {"authorization": f"Bearer {one.admin_token}"}
    body = {"client_id": "short-lived", "grants": ["client_credentials"], "scopes": "photos.read"}
    made = httpx.post(one.url + "/admin/clients", json=body, headers=admin)
    assert made.status_code == 201, made.text
    secret = made.json()["client_secret"]
    grant = {"grant_type": "client_credentials", "scope": "photos.read"}
    for _ in range(2):
        used = httpx.post(two.url + "/token", data=grant, auth=("short-lived", secret))
        assert used.status_code == 200, used.text
    assert httpx.delete(one.url + "/admin/clients/short-lived", headers=admin).status_code == 204
    refused = httpx.post(two.url + "/token", data=grant, auth=("short-lived", secret))
    assert (refused.status_code, refused.json()["error"]) == (401, "invalid_client")


# last in this module: the clock only moves forward, and the tests above sign DPoP proofs with
# the real time
def test_clock_moved_at_one_applies_at_the_other(pair: tuple[Sandbox, Sandbox]) -> None:
    one, two = pair
    code, auth = _code(one)
    before = _advance(one.url, one, 0)["offset"]
    moved = _advance(one.url, one, 61)  # past code_ttl (60 s)
    assert moved["offset"] == before + 61
    expired = _token(two.url, one.secret, _exchange(code, auth))
    assert expired.status_code == 400
    assert expired.json()["error"] == "invalid_grant"
    # and the other way: an access token issued at one expires when two's clock moves
    tokens = _redeem(one.url, one)
    assert tokens.status_code == 200, tokens.text
    bearer = {"authorization": f"Bearer {tokens.json()['access_token']}"}
    assert httpx.get(one.url + "/api/photos", headers=bearer).status_code == 200
    assert _advance(two.url, two, 301)["offset"] == before + 61 + 301  # past access_token_ttl
    assert httpx.get(one.url + "/api/photos", headers=bearer).status_code == 401

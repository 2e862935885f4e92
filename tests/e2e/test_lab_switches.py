"""Each lab switch breaks exactly what it names, says so on every page and in the log."""

from __future__ import annotations

import re
from collections.abc import Iterator

import httpx
import pytest

from tests.support.sandbox import REDIRECT, Sandbox, demo_browser, start_sandbox
from valetkey.oauth.pkce import Pkce
from valetkey.useragent.authorization import query_of

LAB_A = (
    "no-pkce",
    "implicit",
    "code-reuse",
    "no-refresh-rotation",
    "no-iss",
    "weak-codes",
    "framing",
    "open-redirect-on-error",
)


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory, store_url: str | None) -> Iterator[Sandbox]:
    args = [item for name in LAB_A for item in ("--lab", name)]
    running = start_sandbox(tmp_path_factory.mktemp("lab"), *args, db=store_url)
    yield running
    running.stop()


@pytest.fixture(scope="module")
def plain(tmp_path_factory: pytest.TempPathFactory, store_url: str | None) -> Iterator[Sandbox]:
    if store_url is not None:  # a database of its own: `lab` uses the module's
        from tests.support.postgres import fresh_database

        with fresh_database() as url:
            running = start_sandbox(tmp_path_factory.mktemp("plain"), "--lab", "plain-pkce", db=url)
            yield running
            running.stop()
        return
    running = start_sandbox(tmp_path_factory.mktemp("plain"), "--lab", "plain-pkce")
    yield running
    running.stop()


def _token(sandbox: Sandbox, **data: str) -> httpx.Response:
    return httpx.post(sandbox.issuer + "/token", data=data, auth=("photo-printer", sandbox.secret))


def test_banner_and_log_name_every_switch(lab: Sandbox) -> None:
    page = httpx.get(lab.issuer + "/login").text
    assert page.count('class="lab-banner"') == len(LAB_A)
    assert "authorization codes are six digits" in page
    output = lab.output()
    for name in LAB_A:
        assert f"WARNING lab switch {name}:" in output
        assert f"LAB SWITCH {name} is on" in output  # logged at every request


def test_no_pkce(lab: Sandbox) -> None:
    agent = demo_browser(lab.issuer)
    code, _ = agent.code(
        "alice", lab.password("alice"), code_challenge=None, code_challenge_method=None
    )
    agent.close()
    response = _token(lab, grant_type="authorization_code", code=code, redirect_uri=REDIRECT)
    assert response.status_code == 200


def test_code_reuse_and_weak_codes_and_no_iss(lab: Sandbox) -> None:
    agent = demo_browser(lab.issuer)
    auth = agent.request_params()
    callback = agent.to_callback(auth.params, "alice", lab.password("alice"))
    agent.close()
    query = query_of(callback)
    assert re.fullmatch(r"\d{6}", query["code"])  # weak-codes
    assert "iss" not in query  # no-iss
    data = {
        "grant_type": "authorization_code",
        "code": query["code"],
        "redirect_uri": REDIRECT,
        "code_verifier": auth.verifier,
    }
    assert _token(lab, **data).status_code == 200
    assert _token(lab, **data).status_code == 200  # code-reuse
    meta = httpx.get(lab.issuer + "/.well-known/openid-configuration").json()
    assert meta["authorization_response_iss_parameter_supported"] is False


def test_no_refresh_rotation(lab: Sandbox) -> None:
    agent = demo_browser(lab.issuer)
    code, auth = agent.code("alice", lab.password("alice"))
    agent.close()
    first = _token(
        lab,
        grant_type="authorization_code",
        code=code,
        redirect_uri=REDIRECT,
        code_verifier=auth.verifier,
    ).json()
    again = [
        _token(lab, grant_type="refresh_token", refresh_token=first["refresh_token"])
        for _ in range(2)
    ]
    assert [r.status_code for r in again] == [200, 200]
    assert {r.json()["refresh_token"] for r in again} == {first["refresh_token"]}


def test_implicit(lab: Sandbox) -> None:
    agent = demo_browser(lab.issuer)
    auth = agent.request_params(
        response_type="token", code_challenge=None, code_challenge_method=None
    )
    callback = agent.to_callback(auth.params, "alice", lab.password("alice"))
    agent.close()
    assert callback.startswith(REDIRECT + "#access_token=")
    fragment = dict(httpx.QueryParams(callback.split("#", 1)[1]))
    assert fragment["state"] == auth.state
    headers = {"authorization": f"Bearer {fragment['access_token']}"}
    assert httpx.get(lab.issuer + "/api/photos", headers=headers).status_code == 200


def test_framing(lab: Sandbox) -> None:
    page = httpx.get(lab.issuer + "/login")
    assert "x-frame-options" not in page.headers
    assert "frame-ancestors" not in page.headers["content-security-policy"]


def test_open_redirect_on_error(lab: Sandbox) -> None:
    agent = demo_browser(lab.issuer)
    response = agent.authorize(agent.request_params(redirect_uri="https://evil.example/x").params)
    agent.close()
    assert response.status_code == 302
    assert response.headers["location"].startswith("https://evil.example/x?error=invalid_request")


def test_plain_pkce(plain: Sandbox) -> None:
    verifier = Pkce.new().verifier
    agent = demo_browser(plain.issuer)
    code, _ = agent.code(
        "alice", plain.password("alice"), code_challenge=verifier, code_challenge_method="plain"
    )
    agent.close()
    wrong = _token(
        plain,
        grant_type="authorization_code",
        code=code,
        redirect_uri=REDIRECT,
        code_verifier=Pkce.new().verifier,
    )
    assert wrong.json()["error"] == "invalid_grant"
    agent = demo_browser(plain.issuer)
    code, _ = agent.code(
        "alice", plain.password("alice"), code_challenge=verifier, code_challenge_method="plain"
    )
    agent.close()
    ok = _token(
        plain,
        grant_type="authorization_code",
        code=code,
        redirect_uri=REDIRECT,
        code_verifier=verifier,
    )
    assert ok.status_code == 200
    # what the switch does not break: S256 still works, and PKCE is still required
    agent = demo_browser(plain.issuer)
    refused = agent.authorize(
        agent.request_params(code_challenge=None, code_challenge_method=None).params
    )
    agent.close()
    assert query_of(refused.headers["location"])["error"] == "invalid_request"

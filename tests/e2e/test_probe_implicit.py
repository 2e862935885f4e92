"""`valetkey probe client` on legacy implicit apps: what a form_post app is judged on, what a
fragment app can and cannot be judged on (n/a with the reason, never pass), the strict
sandbox's refusal said first, and the sandbox's forgeries reaching the front-channel tokens."""

from __future__ import annotations

import json
import re
import types
from collections.abc import Iterator

import httpx
import pytest

from tests.probe_targets import zoo
from tests.support.sandbox import REDIRECT, Sandbox, demo_browser
from valetkey.oauth.jose import unverified_header as jws_header
from valetkey.probe.client_session import FRAGMENT_UNSEEN
from valetkey.probe.report import to_json, to_text


@pytest.fixture(scope="module")
def sandboxes(tmp_path_factory: pytest.TempPathFactory) -> Iterator[zoo.Sandboxes]:
    running = zoo.start_sandboxes(tmp_path_factory.mktemp("implicit-probe"))
    yield running
    running.stop()


def test_a_fragment_app_is_judged_from_its_traffic_and_na_for_the_rest(
    sandboxes: zoo.Sandboxes,
) -> None:
    run = zoo.probe(zoo.load("aiohttp_fragment_spa"), sandboxes)
    assert run.notes == ["the app's normal sign-in did not complete: " + FRAGMENT_UNSEEN]
    by_status: dict[str, set[str]] = {}
    for result in run.results:
        by_status.setdefault(result.status, set()).add(result.id)
        assert result.reason, result.id
    assert by_status["fail"] == {"LC-07", "LC-09"}
    # judged from the authorization requests and the app's own redirects alone
    assert by_status["pass"] == {"LC-01", "LC-10", "LC-11", "LC-12"}
    assert set(by_status) == {"fail", "pass", "n/a"}
    reasons = {r.id: r.reason for r in run.results}
    for check in ("LC-17", "LC-18", "LC-20"):
        assert reasons[check].startswith(FRAGMENT_UNSEEN + ": "), check
    assert reasons["LC-09"] == (
        "response_type='id_token token': tokens come back through the browser (fragment), "
        "not over the back channel (RFC 9700 §2.1.2)"
    )
    assert reasons["LC-19"] == (
        "cookies HttpOnly and SameSite; whether the session id changes at sign-in is not "
        "seen: " + FRAGMENT_UNSEEN
    )


def test_a_form_post_app_against_the_strict_sandbox_is_told_why(
    sandboxes: zoo.Sandboxes,
) -> None:
    guestbook = zoo.load("flask_form_post_guestbook")
    strict = zoo.ZooApp(
        "flask_guestbook_strict",
        types.SimpleNamespace(build=guestbook.module.build, FAILS=guestbook.fails),  # type: ignore[arg-type]
    )
    run = zoo.probe(strict, sandboxes, only=["LC-02", "LC-09", "LC-14"])
    assert run.notes == [
        "the app's normal sign-in did not complete: the sandbox refused the app's "
        "authorization request (unsupported_response_type: response_type 'id_token token' "
        "is not supported; use the authorization code flow (code))"
    ]
    assert [(r.id, r.status) for r in run.results] == [
        ("LC-02", "n/a"),
        ("LC-09", "fail"),
        ("LC-14", "n/a"),
    ]
    # the time: the run's in every report, each check's in JSON and with --verbose
    report = json.loads(to_json(run))
    assert report["seconds"] == round(run.seconds, 2)
    assert run.seconds > 0
    assert [r["seconds"] for r in report["results"]] == [round(r.seconds, 2) for r in run.results]
    assert all(r.seconds > 0 for r in run.results)
    text = to_text(run, verbose=True).splitlines()
    assert re.fullmatch(r"n/a   LC-02  .+ \(\d+\.\d s\)", text[3])
    assert re.fullmatch(r"0 passed, 1 failed, 2 not applicable, 0 broke; \d+\.\d s", text[-1])
    assert not re.search(r"\(\d+\.\d s\)$", to_text(run).splitlines()[3])


def _forge(sandbox: Sandbox, where: str, how: str) -> None:
    answer = httpx.post(
        sandbox.issuer + "/probe/forge",
        data={"client_id": "photo-printer", "where": where, "how": how},
        headers={"authorization": f"Bearer {sandbox.admin_token}"},
    )
    assert answer.status_code == 200


def _fragment(sandbox: Sandbox, response_type: str) -> dict[str, str]:
    agent = demo_browser(sandbox.issuer)
    try:
        auth = agent.request_params(
            response_type=response_type, code_challenge=None, code_challenge_method=None
        )
        location = agent.to_callback(auth.params, "alice", sandbox.password("alice"))
    finally:
        agent.close()
    assert location.startswith(REDIRECT + "#")
    return dict(httpx.QueryParams(location.split("#", 1)[1]))


def test_the_probe_forgeries_reach_the_front_channel_tokens(sandboxes: zoo.Sandboxes) -> None:
    sandbox = sandboxes.labelled("implicit")
    _forge(sandbox, "token", "alg-none")
    _forge(sandbox, "authorization", "no-iss")
    forged = _fragment(sandbox, "id_token token")
    assert jws_header(forged["id_token"])["alg"] == "none"
    assert "iss" not in forged
    _forge(sandbox, "token", "no-id-token")
    assert set(_fragment(sandbox, "id_token token")) == {
        "access_token",
        "token_type",
        "expires_in",
        "scope",
        "state",
        "iss",
    }
    assert jws_header(_fragment(sandbox, "id_token")["id_token"])["alg"] == "RS256"  # used up

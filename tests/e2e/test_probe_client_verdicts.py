"""How `valetkey probe client` reports what it cannot judge (issue 12): a check that breaks
is an `error` and the report is still written; a normal sign-in that fails is said first;
an app whose signed-in state shows nowhere gives n/a, never pass, until the user names the
page and text; LC-18 finds the client secret on an error page."""

from __future__ import annotations

import secrets
import types
from collections.abc import Iterator

import pytest
from flask import Flask, redirect, request, session

from tests.probe_targets import zoo
from tests.probe_targets.kit import SAFE_HEADERS, Cfg, Provider, Refused, pkce_pair
from valetkey.probe import client_checks
from valetkey.probe.report import to_text


@pytest.fixture(scope="module")
def sandboxes(tmp_path_factory: pytest.TempPathFactory) -> Iterator[zoo.Sandboxes]:
    running = zoo.start_sandboxes(tmp_path_factory.mktemp("verdicts"))
    yield running
    running.stop()


def _quiet_app(cfg: Cfg) -> Flask:
    """Secure, but signed in shows nowhere: one session cookie from /login on, same pages,
    no API calls. Only /vip, which nobody links to, says VIP to a signed-in browser."""
    app = Flask("quiet")
    app.secret_key = secrets.token_hex(16)
    app.config["SESSION_COOKIE_SAMESITE"] = "Lax"
    idp = Provider(cfg)

    @app.get("/vip")
    def vip() -> str:
        return "VIP lounge" if session.get("sub") else "Lounge"

    @app.get("/login")
    def login():  # type: ignore[no-untyped-def]
        verifier, challenge = pkce_pair()
        session["p"] = [secrets.token_urlsafe(32), secrets.token_urlsafe(32), verifier]
        state, nonce, _ = session["p"]
        url = idp.authorize_url(
            state=state, nonce=nonce, code_challenge=challenge, code_challenge_method="S256"
        )
        return redirect(url)

    @app.get("/callback")
    def callback():  # type: ignore[no-untyped-def]
        p = session.pop("p", None)
        if not p or request.args.get("state") != p[0] or "code" not in request.args:
            return "Hello", 200
        try:
            idp.check_iss(request.args)
            claims = idp.verify(idp.exchange(request.args["code"], p[2]).get("id_token"), p[1])
        except Refused:
            return "Hello", 200
        session["sub"] = claims["sub"]
        return redirect("/vip-free-landing", 303), SAFE_HEADERS

    @app.get("/vip-free-landing")
    def landing() -> str:
        return "Hello"

    return app


QUIET = zoo.ZooApp("flask_quiet", types.SimpleNamespace(build=_quiet_app, FAILS=frozenset()))  # type: ignore[arg-type]
VERDICT_CHECKS = ["LC-02", "LC-04", "LC-06", "LC-14", "LC-16"]


def test_undecidable_sign_in_is_na_with_the_reason_never_pass(sandboxes: zoo.Sandboxes) -> None:
    run = zoo.probe(QUIET, sandboxes, only=VERDICT_CHECKS)
    assert run.notes == [
        "the app's normal sign-in did not complete: cannot tell when the app is signed in: no "
        "page, cookie or API call differs between a signed-in and a fresh browser; say where "
        "it shows with --signed-in-url/--signed-in-text"
    ]
    assert [(r.id, r.status) for r in run.results] == [(c, "n/a") for c in VERDICT_CHECKS]
    assert run.results[0].reason.startswith("cannot tell when the app is signed in")


def test_signed_in_url_and_text_make_it_decidable(sandboxes: zoo.Sandboxes) -> None:
    run = zoo.probe(
        QUIET, sandboxes, only=VERDICT_CHECKS, signed_in_url="/vip", signed_in_text="VIP"
    )
    assert run.notes == []
    assert [(r.id, r.status) for r in run.results] == [(c, "pass") for c in VERDICT_CHECKS]


def test_a_broken_check_is_an_error_and_the_report_is_written(
    sandboxes: zoo.Sandboxes, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(s: object) -> client_checks.Result:
        return {}["code"]  # type: ignore[no-any-return]  # the KeyError of issue 12

    table = [
        (cid, broken if cid == "LC-15" else check) for cid, check in client_checks.CLIENT_CHECKS
    ]
    monkeypatch.setattr("valetkey.probe.client.CLIENT_CHECKS", table)
    run = zoo.probe(zoo.load("flask_authlib_shop"), sandboxes, only=["LC-09", "LC-15", "LC-16"])
    assert [(r.id, r.status, r.reason) for r in run.results] == [
        ("LC-09", "pass", "response_type=code"),
        ("LC-15", "error", "the check broke: KeyError: 'code'"),
        ("LC-16", "pass", "no ID token, no sign-in"),
    ]
    assert "ERR   LC-15  the check broke: KeyError: 'code'" in to_text(run)
    assert "2 passed, 0 failed, 0 not applicable, 1 broke" in to_text(run)


def test_a_refused_normal_sign_in_is_said_first(sandboxes: zoo.Sandboxes) -> None:
    """The app asks for offline_access, which its registration does not allow: the sandbox
    answers error=invalid_scope. Said first; what needs no sign-in is still judged."""
    run = zoo.probe(
        zoo.load("flask_proxy_aware"),
        sandboxes,
        only=["LC-08", "LC-10", "LC-14"],
        registered_scope="openid profile email",
    )
    assert len(run.notes) == 1
    assert run.notes[0].startswith("the app's normal sign-in did not complete: ")
    assert to_text(run).splitlines()[1] == "NOTE  " + run.notes[0]
    statuses = {r.id: r.status for r in run.results}
    assert statuses == {"LC-08": "n/a", "LC-10": "fail", "LC-14": "n/a"}


def test_lc18_finds_the_client_secret_on_an_error_page(sandboxes: zoo.Sandboxes) -> None:
    run = zoo.probe(zoo.load("aiohttp_debug_pages"), sandboxes, only=["LC-18"])
    (result,) = run.results
    assert (result.status, result.reason) == ("fail", "the client secret appeared in a 500 page")
    assert result.evidence[0].request.startswith("GET ")
    assert "/callback?code=" in result.evidence[0].request

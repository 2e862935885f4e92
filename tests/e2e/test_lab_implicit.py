"""LAB implicit: `token`, `id_token` and `id_token token` from the authorization endpoint, in
the fragment or by form_post, with nonce required and at_hash beside an access token; and the
strict sandbox refusing every one of them."""

from __future__ import annotations

import re
from collections.abc import Iterator

import httpx
import pytest
from joserfc import jwt
from joserfc.jwk import KeySet

from tests.support.sandbox import REDIRECT, Sandbox, demo_browser, hidden, start_sandbox
from valetkey.oauth.base64url import left_half_hash
from valetkey.oauth.redaction import fingerprint
from valetkey.useragent.agent import UserAgent
from valetkey.useragent.authorization import query_of
from valetkey.useragent.forms import parse_forms

TYPES = ("token", "id_token", "id_token token")
MODES = ("fragment", "form_post")


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sandbox]:
    running = start_sandbox(tmp_path_factory.mktemp("implicit"), "--lab", "implicit")
    yield running
    running.stop()


def _implicit_params(agent: UserAgent, response_type: str, mode: str | None) -> dict[str, str]:
    params = agent.request_params(
        response_type=response_type,
        response_mode=mode,
        code_challenge=None,
        code_challenge_method=None,
        scope="openid profile email photos.read",
    ).params
    return params


def _to_response(agent: UserAgent, params: dict[str, str], sandbox: Sandbox) -> httpx.Response:
    """authorize -> login -> consent; the sandbox's last answer (a redirect or a page)."""
    response = agent.authorize(params)
    for _ in range(4):
        location = response.headers.get("location", "")
        if location.startswith("/login"):
            response = agent.login(location, "alice", sandbox.password("alice"))
        elif location.startswith("/consent"):
            response = agent.consent(location)
        else:
            return response
    raise AssertionError("too many hops")


def _fields(response: httpx.Response, mode: str, status: int = 303) -> dict[str, str]:
    """The authorization response's fields: from the fragment of a redirect with `status`
    (302 straight from /authorize, 303 after the login or consent POST), or the form."""
    if mode == "fragment":
        assert response.status_code == status
        location = response.headers["location"]
        assert location.startswith(REDIRECT + "#")
        return dict(httpx.QueryParams(location.split("#", 1)[1]))
    assert response.status_code == 200
    (form,) = parse_forms(response.text, str(response.url))
    assert (form.method, form.action) == ("POST", REDIRECT)
    return dict(form.fields())


def _claims(sandbox: Sandbox, token: str) -> dict[str, object]:
    keys = KeySet.import_key_set(httpx.get(sandbox.issuer + "/jwks.json").json())
    return dict(jwt.decode(token, keys, algorithms=["RS256", "ES256"]).claims)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("response_type", TYPES)
def test_each_type_in_each_mode(lab: Sandbox, response_type: str, mode: str) -> None:
    agent = demo_browser(lab.issuer)
    try:
        params = _implicit_params(agent, response_type, mode)
        fields = _fields(_to_response(agent, params, lab), mode)
    finally:
        agent.close()
    expected = {"state", "iss"}
    if "token" in response_type.split():
        expected |= {"access_token", "token_type", "expires_in", "scope"}
    if "id_token" in response_type.split():
        expected.add("id_token")
    assert set(fields) == expected
    assert (fields["state"], fields["iss"]) == (params["state"], lab.issuer)
    if "access_token" in fields:
        assert (fields["token_type"], fields["scope"]) == ("Bearer", params["scope"])
        headers = {"authorization": f"Bearer {fields['access_token']}"}
        assert httpx.get(lab.issuer + "/userinfo", headers=headers).status_code == 200
    if "id_token" in fields:
        claims = _claims(lab, fields["id_token"])
        assert (claims["iss"], claims["aud"], claims["nonce"]) == (
            lab.issuer,
            "photo-printer",
            params["nonce"],
        )
        if "access_token" in fields:  # OIDC Core §3.2.2.10
            assert claims["at_hash"] == left_half_hash(fields["access_token"])
            assert "preferred_username" not in claims  # the scopes' claims are at userinfo
        else:  # OIDC Core §5.4: no access token, so the claims are in the ID token
            assert "at_hash" not in claims
            assert claims["preferred_username"] == "alice"


def test_the_default_mode_is_the_fragment(lab: Sandbox) -> None:
    agent = demo_browser(lab.issuer)
    try:
        params = _implicit_params(agent, "token id_token", None)  # order does not matter
        fields = _fields(_to_response(agent, params, lab), "fragment")
    finally:
        agent.close()
    assert {"access_token", "id_token", "state", "iss"} <= set(fields)


def test_the_form_post_page(lab: Sandbox) -> None:
    """A self-submitting form: the script allowed by nonce alone, the form only to the app,
    a button for browsers without scripts, nothing from another origin, never cached."""
    agent = demo_browser(lab.issuer)
    try:
        page = _to_response(agent, _implicit_params(agent, "id_token", "form_post"), lab)
    finally:
        agent.close()
    csp = page.headers["content-security-policy"]
    (nonce,) = re.findall(r"<script nonce=\"([^\"]+)\">", page.text)
    assert f"script-src 'nonce-{nonce}'" in csp
    assert "form-action http://127.0.0.1:8500" in csp
    assert "frame-ancestors 'none'" in csp
    assert "default-src 'none'" in csp
    assert page.headers["cache-control"] == "no-store"
    assert page.headers["referrer-policy"] == "no-referrer"
    assert re.search(r"<noscript>.*<button type=\"submit\">", page.text, re.DOTALL)
    assert not re.search(r"(src|href)=\"(https?:)?//", page.text)
    assert 'class="lab-banner"' in page.text
    assert hidden(page.text, "id_token").count(".") == 2


def _first_answer(
    lab: Sandbox, response_type: str, mode: str | None, **changes: str | None
) -> tuple[dict[str, str], httpx.Response]:
    """The sandbox's answer to one implicit request with `changes` (None: left out)."""
    agent = demo_browser(lab.issuer)
    try:
        params = {**_implicit_params(agent, response_type, mode), **changes}
        sent = {k: v for k, v in params.items() if v is not None}
        return sent, agent.authorize(sent)
    finally:
        agent.close()


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("response_type", ["id_token", "id_token token"])
def test_an_id_token_needs_a_nonce(lab: Sandbox, response_type: str, mode: str) -> None:
    params, response = _first_answer(lab, response_type, mode, nonce=None)
    fields = _fields(response, mode, status=302)
    assert fields["error"] == "invalid_request"
    assert fields["error_description"] == (
        "nonce is required when the ID token is returned from the authorization endpoint"
    )
    assert fields["state"] == params["state"]


def test_query_mode_is_refused_for_tokens(lab: Sandbox) -> None:
    _, response = _first_answer(lab, "id_token token", "query")
    fields = _fields(response, "fragment", status=302)  # the type's default mode, not query
    assert fields["error"] == "invalid_request"
    assert "response_mode 'query' is not supported" in fields["error_description"]


def test_an_id_token_needs_the_openid_scope(lab: Sandbox) -> None:
    _, response = _first_answer(lab, "id_token", None, scope="profile")
    assert _fields(response, "fragment", status=302)["error"] == "invalid_scope"


@pytest.mark.parametrize("mode", MODES)
def test_an_unregistered_redirect_uri_is_never_redirected_to(lab: Sandbox, mode: str) -> None:
    evil = "https://evil.example/callback"
    _, response = _first_answer(lab, "id_token token", mode, redirect_uri=evil)
    assert response.status_code == 400
    assert "location" not in response.headers
    assert "evil.example" not in response.text
    assert "<form" not in response.text


def test_discovery_lists_the_lab_types_and_modes(lab: Sandbox, sandbox: Sandbox) -> None:
    meta = httpx.get(lab.issuer + "/.well-known/openid-configuration").json()
    assert meta["response_types_supported"] == ["code", "token", "id_token", "id_token token"]
    assert meta["response_modes_supported"] == ["query", "fragment", "form_post"]
    strict = httpx.get(sandbox.issuer + "/.well-known/openid-configuration").json()
    assert strict["response_types_supported"] == ["code"]
    assert strict["response_modes_supported"] == ["query"]


def test_the_flow_inspector_records_the_front_channel_tokens(lab: Sandbox) -> None:
    agent = demo_browser(lab.issuer)
    try:
        params = _implicit_params(agent, "id_token token", "form_post")
        fields = _fields(_to_response(agent, params, lab), "form_post")
    finally:
        agent.close()
    store = lab.store()
    sent = fingerprint(fields["id_token"])
    events = next(
        events
        for events in (store.flow_events(f["id"]) for f in store.flows(50))
        if events[-1].params.get("id_token") == sent
    )
    assert [e.step for e in events] == ["authorization_request", "login", "authorization_response"]
    assert events[0].params["response_mode"] == "form_post"
    response = events[-1]
    assert (response.sender, response.receiver, response.channel) == (
        "authorization_server",
        "client",
        "front",
    )
    assert "self-submitting form" in response.summary
    assert response.params["access_token"].startswith("sha256:")
    assert fields["access_token"] not in repr(events)
    request_checks = {c["id"]: c["result"] for c in events[0].checks}
    assert request_checks["AS-21"] == request_checks["AS-32"] == "pass"


STRICT_REFUSALS = [(t, m) for t in TYPES for m in (None, *MODES)]


@pytest.mark.parametrize(("response_type", "mode"), STRICT_REFUSALS)
def test_the_strict_sandbox_refuses_each(
    sandbox: Sandbox, agent: UserAgent, response_type: str, mode: str | None
) -> None:
    params = _implicit_params(agent, response_type, mode)
    response = agent.authorize(params)
    assert response.status_code == 302
    location = response.headers["location"]
    assert location.startswith(REDIRECT + "?")
    assert "#" not in location
    query = query_of(location)
    assert query["error"] == "unsupported_response_type"
    assert query["error_description"] == (
        f"response_type {response_type!r} is not supported; use the authorization code flow (code)"
    )
    assert query["state"] == params["state"]


@pytest.mark.parametrize("mode", MODES)
def test_the_strict_sandbox_refuses_other_modes_for_code(
    sandbox: Sandbox, agent: UserAgent, mode: str
) -> None:
    response = agent.authorize(agent.request_params(response_mode=mode).params)
    query = query_of(response.headers["location"])
    assert query["error"] == "invalid_request"
    assert query["error_description"] == (
        f"response_mode {mode!r} is not supported with response_type 'code'; use query"
    )


def test_a_denial_goes_back_by_form_post_too(lab: Sandbox) -> None:
    agent = demo_browser(lab.issuer)
    try:
        params = {**_implicit_params(agent, "id_token", "form_post"), "prompt": "consent"}
        response = agent.authorize(params)
        response = agent.login(response.headers["location"], "alice", lab.password("alice"))
        response = agent.consent(response.headers["location"], decision="deny")
    finally:
        agent.close()
    fields = _fields(response, "form_post")
    assert (fields["error"], fields["state"]) == ("access_denied", params["state"])

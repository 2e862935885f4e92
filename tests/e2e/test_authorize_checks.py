"""The authorization endpoint's checks, each with its catalogue id, over real HTTP."""

from __future__ import annotations

import pytest

from tests.support.sandbox import REDIRECT, Sandbox, demo_browser
from valetkey.useragent.agent import UserAgent
from valetkey.useragent.authorization import query_of

# AS-08: every near-miss of the registered http://127.0.0.1:8500/callback is refused
NEAR_MISSES = [
    "http://127.0.0.1:8500/callback?x=1",
    "http://127.0.0.1:8500/callback/extra",
    "http://127.0.0.1:8500/callback/../callback",
    "http://127.0.0.1:8500/callbackx",
    "http://127.0.0.1:8501/callback",
    "https://127.0.0.1:8500/callback",
    "HTTP://127.0.0.1:8500/callback",
    "http://127.0.0.1:8500/Callback",
    "http://127.0.0.1:8500/callback/",
    "http://127.0.0.1:8500/%63allback",
    "http://127.0.0.1:8500/callback#frag",
    "http://127.0.0.1.evil.example:8500/callback",
    "http://evil.example/callback",
    "http://127.0.0.1:8500@evil.example/callback",
]


@pytest.mark.parametrize("redirect_uri", NEAR_MISSES)
def test_redirect_uri_must_match_exactly(agent: UserAgent, redirect_uri: str) -> None:
    """AS-08, AS-09: an error page, never a redirect."""
    response = agent.authorize(agent.request_params(redirect_uri=redirect_uri).params)
    assert response.status_code == 400
    assert "location" not in response.headers
    assert "not registered for this app" in response.text


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"client_id": "no-such-client"}, "is not registered"),
        ({"client_id": None}, "exactly once"),
        ({"redirect_uri": None}, "exactly once"),
    ],
)
def test_unknown_client_or_missing_redirect_is_a_page(
    agent: UserAgent, overrides: dict[str, str | None], message: str
) -> None:
    """AS-09: no trusted redirect URI, so no redirect."""
    response = agent.authorize(agent.request_params(**overrides).params)
    assert response.status_code == 400
    assert "location" not in response.headers
    assert message in response.text
    assert response.headers["content-type"] == "text/html; charset=utf-8"


def test_errors_with_bad_redirect_never_redirect(agent: UserAgent) -> None:
    """AS-10: a bad scope AND a bad redirect_uri: the page wins, nothing is redirected."""
    params = agent.request_params(
        redirect_uri="https://evil.example/cb", scope="admin", response_type="token"
    ).params
    response = agent.authorize(params)
    assert response.status_code == 400
    assert "location" not in response.headers


@pytest.mark.parametrize(
    ("overrides", "error", "fragment"),
    [
        ({"response_type": None}, "invalid_request", "response_type is required"),  # AS-39
        ({"response_type": "token"}, "unsupported_response_type", "authorization code"),  # AS-21
        ({"response_type": "id_token token"}, "unsupported_response_type", ""),  # AS-21
        ({"response_type": "code token"}, "unsupported_response_type", ""),  # AS-21
        ({"response_type": "code id_token"}, "unsupported_response_type", ""),  # AS-21
        ({"response_type": "bogus"}, "unsupported_response_type", ""),  # AS-39
        ({"scope": "openid admin"}, "invalid_scope", "admin"),  # AS-43
        ({"scope": None}, "invalid_scope", "scope is required"),  # AS-43
        ({"code_challenge_method": "plain"}, "invalid_request", "S256"),  # AS-03
        ({"code_challenge_method": None}, "invalid_request", "S256"),  # AS-03: absent = plain
        (
            {"code_challenge": None, "code_challenge_method": None},
            "invalid_request",
            "code_challenge",
        ),  # AS-06 (confidential, by default)
        ({"code_challenge": "short"}, "invalid_request", "43 base64url"),
        ({"response_mode": "fragment"}, "invalid_request", "response_mode"),
        ({"request": "eyJhbGciOiJub25lIn0.e30."}, "request_not_supported", ""),
        ({"request_uri": "https://evil.example/r"}, "request_uri_not_supported", ""),
        ({"prompt": "none login"}, "invalid_request", "prompt=none"),
        ({"prompt": "sideways"}, "invalid_request", "unknown prompt"),
        ({"max_age": "-5"}, "invalid_request", "max_age"),
        ({"prompt": "none"}, "login_required", ""),
    ],
)
def test_redirectable_errors(
    agent: UserAgent, sandbox: Sandbox, overrides: dict[str, str | None], error: str, fragment: str
) -> None:
    auth = agent.request_params(**overrides)
    response = agent.authorize(auth.params)
    assert response.status_code == 302
    location = response.headers["location"]
    assert location.startswith(REDIRECT + "?")
    query = query_of(location)
    assert query["error"] == error
    assert fragment in query["error_description"]
    assert query["state"] == auth.state  # AS-13
    assert query["iss"] == sandbox.issuer  # AS-14, RFC 9207 in errors too


def test_duplicated_parameter_is_refused(agent: UserAgent) -> None:
    params = [*list(agent.request_params().params.items()), ("scope", "openid")]
    response = agent.http.get("/authorize", params=params)
    assert response.status_code == 302
    query = query_of(response.headers["location"])
    assert query["error"] == "invalid_request"
    assert query["error_description"] == "parameter sent more than once: scope"


def test_public_client_needs_pkce(agent: UserAgent) -> None:
    """AS-06 for the public client."""
    params = agent.request_params(
        client_id="photo-printer-spa",
        redirect_uri="http://127.0.0.1:8501/callback",
        code_challenge=None,
        code_challenge_method=None,
    ).params
    query = query_of(agent.authorize(params).headers["location"])
    assert query["error"] == "invalid_request"
    assert "public client" in query["error_description"]


def test_long_state_is_echoed_unchanged(agent: UserAgent, sandbox: Sandbox) -> None:
    """AS-13: a 2,000-character state with reserved characters comes back byte for byte."""
    state = ("ä&=+/?#%20 " * 200)[:2000]
    code_state = query_of(
        agent.to_callback(
            agent.request_params(state=state).params, "alice", sandbox.password("alice")
        )
    )
    assert code_state["state"] == state
    assert code_state["iss"] == sandbox.issuer


def test_state_is_optional_but_never_invented(agent: UserAgent, sandbox: Sandbox) -> None:
    callback = agent.to_callback(
        agent.request_params(state=None).params, "alice", sandbox.password("alice")
    )
    assert "state" not in query_of(callback)


def test_second_flow_skips_password_and_consent(agent: UserAgent, sandbox: Sandbox) -> None:
    agent.code("alice", sandbox.password("alice"))
    response = agent.authorize(agent.request_params().params)
    assert response.status_code == 302
    assert response.headers["location"].startswith(REDIRECT + "?code=")


def test_prompt_login_asks_again_and_prompt_none_succeeds_with_session(
    agent: UserAgent, sandbox: Sandbox
) -> None:
    agent.code("alice", sandbox.password("alice"))
    silent = agent.authorize(agent.request_params(prompt="none").params)
    assert "code" in query_of(silent.headers["location"])
    forced = agent.authorize(agent.request_params(prompt="login").params)
    assert forced.headers["location"].startswith("/login?request=")


def test_prompt_none_without_consent_is_consent_required(sandbox: Sandbox) -> None:
    sandbox.add_user("carol-consent", "carol-password-1")
    agent = demo_browser(sandbox.issuer)
    try:
        auth = agent.request_params()
        response = agent.authorize(auth.params)
        response = agent.login(response.headers["location"], "carol-consent", "carol-password-1")
        assert response.headers["location"].startswith("/consent")
        query = query_of(
            agent.authorize(agent.request_params(prompt="none").params).headers["location"]
        )
        assert query["error"] == "consent_required"
    finally:
        agent.close()


def test_denied_consent_returns_access_denied(sandbox: Sandbox) -> None:
    sandbox.add_user("dave-deny", "dave-password-1")
    agent = demo_browser(sandbox.issuer)
    try:
        auth = agent.request_params()
        response = agent.authorize(auth.params)
        response = agent.login(response.headers["location"], "dave-deny", "dave-password-1")
        denied = agent.consent(response.headers["location"], decision="deny")
        assert denied.status_code == 303  # AS-35
        query = query_of(denied.headers["location"])
        assert query == {
            "error": "access_denied",
            "error_description": "the user denied the request",
            "state": auth.state,
            "iss": sandbox.issuer,
        }
    finally:
        agent.close()


def test_wrong_password_is_401_and_no_session(agent: UserAgent, sandbox: Sandbox) -> None:
    response = agent.authorize(agent.request_params().params)
    failed = agent.login(response.headers["location"], "alice", "not-her-password")
    assert failed.status_code == 401
    assert "Wrong username or password." in failed.text
    assert "vk_session" not in agent.http.cookies

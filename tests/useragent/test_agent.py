"""The user agent without sockets: pages served by httpx's MockTransport."""

from __future__ import annotations

from urllib.parse import parse_qs

import httpx
import pytest

from valetkey.useragent.agent import AgentError, UserAgent
from valetkey.useragent.authorization import ClientRequest, query_of

LOGIN = """<form method="post" action="/login">
<input type="hidden" name="csrf" value="c-1"><input type="hidden" name="request" value="r-1">
<input name="username" type="text" value=""><input name="password" type="password">
<button type="submit">Sign in</button></form>"""
CONSENT = """<form method="post" action="/consent">
<input type="hidden" name="csrf" value="c-2"><input type="hidden" name="request" value="r-2">
<button type="submit" name="decision" value="deny">Deny</button>
<button type="submit" name="decision" value="allow">Allow</button></form>"""
CLIENT = ClientRequest("app", "http://127.0.0.1:5000/cb", "openid profile")


class Server:
    """An authorization server in a few lines: /authorize -> /login -> /consent -> back."""

    def __init__(self) -> None:
        self.posted: list[tuple[str, dict[str, list[str]], str | None]] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path
        html = {"content-type": "text/html"}
        if path == "/authorize":
            return httpx.Response(302, headers={"location": "/login?request=r-1"})
        if request.method == "GET" and path in ("/login", "/consent"):
            return httpx.Response(200, text=LOGIN if path == "/login" else CONSENT, headers=html)
        form = parse_qs(request.content.decode())
        self.posted.append((path, form, request.headers.get("origin")))
        if path == "/login":
            return httpx.Response(303, headers={"location": "/consent?request=r-2"})
        if form["decision"] == ["deny"]:
            return httpx.Response(303, headers={"location": CLIENT.redirect_uri + "?error=x"})
        return httpx.Response(303, headers={"location": CLIENT.redirect_uri + "?code=k-1"})


def _agent(server: Server) -> UserAgent:
    return UserAgent(
        base_url="http://as.test", client=CLIENT, transport=httpx.MockTransport(server)
    )


def test_login_fills_the_form_and_sends_extra_headers() -> None:
    server = Server()
    answer = _agent(server).login("/login?request=r-1", "alice", "pw-1", headers={"origin": "null"})
    assert answer.status_code == 303
    assert server.posted == [
        (
            "/login",
            {"csrf": ["c-1"], "request": ["r-1"], "username": ["alice"], "password": ["pw-1"]},
            "null",
        )
    ]


@pytest.mark.parametrize("decision", ["allow", "deny"])
def test_consent_presses_the_named_button(decision: str) -> None:
    server = Server()
    _agent(server).consent("/consent?request=r-2", decision=decision)
    assert server.posted[0][1] == {"csrf": ["c-2"], "request": ["r-2"], "decision": [decision]}


def test_code_goes_through_login_and_consent() -> None:
    server = Server()
    code, auth = _agent(server).code("alice", "pw-1")
    assert code == "k-1"
    assert [path for path, _, _ in server.posted] == ["/login", "/consent"]
    assert auth.params["client_id"] == "app"
    assert auth.params["scope"] == "openid profile"
    assert auth.params["code_challenge_method"] == "S256"
    assert len(auth.verifier) == 64
    assert auth.params["state"] == auth.state


def test_overrides_replace_and_none_removes() -> None:
    auth = CLIENT.authorization(state="fixed", nonce=None)
    assert auth.params["state"] == "fixed"
    assert "nonce" not in auth.params


def test_refusals_are_agent_errors() -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        return httpx.Response(400, text="invalid_request")

    agent = UserAgent(
        base_url="http://as.test", client=CLIENT, transport=httpx.MockTransport(refuse)
    )
    with pytest.raises(AgentError) as stopped:
        agent.code("alice", "pw-1")
    assert str(stopped.value) == "status 400 on the way: invalid_request"
    with pytest.raises(AgentError) as no_client:
        UserAgent().request_params()
    assert str(no_client.value) == "this agent speaks for no client: give it a ClientRequest"


def test_query_of_takes_the_first_value() -> None:
    assert query_of("http://x/cb?code=a&code=b&state=s") == {"code": "a", "state": "s"}

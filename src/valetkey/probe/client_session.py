"""What the client checks share: the app's login URL, a sandbox in probe mode that shows the
back channel and forges responses, and browsers that sign in through the app."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import httpx

from valetkey.probe.agent import UserAgent, Visit


class ClientProbeError(RuntimeError):
    """A step the checks need did not work (the app is down, the sandbox not in probe mode)."""


@dataclass(frozen=True)
class ClientTarget:
    login_url: str
    sandbox: str
    username: str
    password: str
    other_username: str = "bob"  # the attacker's account, for login CSRF
    other_password: str = ""
    expected_scopes: frozenset[str] = frozenset({"openid", "profile", "email", "photos.read"})


@dataclass
class Attempt:
    authorization_url: str
    params: dict[str, str]
    callback: str | None = None
    visit: Visit | None = None
    events: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class Browser:
    agent: UserAgent
    responses: list[httpx.Response] = field(default_factory=list)

    def close(self) -> None:
        self.agent.close()


class ClientProbeSession:
    def __init__(self, target: ClientTarget) -> None:
        self.target = target
        self.control = httpx.Client(base_url=target.sandbox, timeout=10.0)
        self.client_id = ""
        self.meta: dict[str, Any] = {}

    def open(self) -> None:
        answer = self.control.get("/probe/log")
        if answer.status_code != 200:
            raise ClientProbeError("the sandbox is not in probe mode (valetkey serve --probe-mode)")
        self.meta = self.control.get("/.well-known/openid-configuration").json()

    def close(self) -> None:
        self.control.close()

    @property
    def app_origin(self) -> str:
        parts = urlsplit(self.target.login_url)
        return f"{parts.scheme}://{parts.netloc}"

    def browser(self, attacker: bool = False) -> Browser:
        responses: list[httpx.Response] = []
        user = self.target.other_username if attacker else self.target.username
        password = self.target.other_password if attacker else self.target.password
        agent = UserAgent(user, password, hooks={"response": [responses.append]})
        return Browser(agent, responses)

    # -- the flow, in pieces ----------------------------------------------------------------

    def start(
        self, browser: Browser, url: str | None = None, headers: dict[str, str] | None = None
    ) -> Attempt:
        """Open the app's login URL; stop where the app sends the browser to the sandbox."""
        if headers:
            browser.agent.http.headers.update(headers)
        visit = browser.agent.navigate(
            url or self.target.login_url, stop_at=lambda u: u.startswith(self.target.sandbox)
        )
        for name in headers or {}:
            browser.agent.http.headers.pop(name, None)
        if visit.stopped_at is None:
            raise ClientProbeError(
                f"the app did not send the browser to the sandbox (ended at {visit.response.url})"
            )
        params = dict(httpx.URL(visit.stopped_at).params)
        self.client_id = params.get("client_id", self.client_id)
        return Attempt(visit.stopped_at, params)

    def authorize(self, browser: Browser, attempt: Attempt) -> str:
        """Log in and consent at the sandbox; stop where it sends the browser back."""
        visit = browser.agent.navigate(
            attempt.authorization_url, stop_at=lambda u: not u.startswith(self.target.sandbox)
        )
        if visit.stopped_at is None:
            raise ClientProbeError("the sandbox did not send the browser back to the app")
        attempt.callback = visit.stopped_at
        return visit.stopped_at

    def deliver(self, browser: Browser, url: str, attempt: Attempt | None = None) -> Attempt:
        """Open a callback URL in this browser and follow the app until it settles."""
        attempt = attempt or Attempt("", {})
        mark = self.log_length()
        # follow the app, and nothing else: a redirect elsewhere is recorded, not followed
        attempt.visit = browser.agent.navigate(
            url, stop_at=lambda u: not u.startswith(self.app_origin)
        )
        attempt.events = self.log_since(mark)
        return attempt

    def full(self, browser: Browser, forge: tuple[str, str] | None = None) -> Attempt:
        attempt = self.start(browser)
        if forge is not None:
            self.forge(*forge)
        callback = self.authorize(browser, attempt)
        return self.deliver(browser, callback, attempt)

    # -- the sandbox's side -----------------------------------------------------------------

    def forge(self, where: str, how: str) -> None:
        answer = self.control.post(
            "/probe/forge", data={"client_id": self.client_id, "where": where, "how": how}
        )
        if answer.status_code != 200:
            raise ClientProbeError(f"the sandbox refused the forgery {how}: {answer.text}")

    def log_length(self) -> int:
        return len(self.control.get("/probe/log").json()["events"])

    def log_since(self, mark: int) -> list[dict[str, Any]]:
        return list(self.control.get("/probe/log", params={"since": mark}).json()["events"])

    # -- oracles ----------------------------------------------------------------------------

    def signed_in(self, attempt: Attempt, username: str | None = None) -> bool:
        """Did the app act signed in: call the API with a token, or show the user's name?"""
        if any(e.get("endpoint") == "resource" and e.get("status") == 200 for e in attempt.events):
            return True
        visit = attempt.visit
        if visit is None or visit.response.status_code != 200:
            return False
        if not str(visit.response.url).startswith(self.app_origin):
            return False
        return (username or self.target.username) in visit.response.text

    @staticmethod
    def redeemed(attempt: Attempt) -> bool:
        """Did the app send the code to the token endpoint at all?"""
        return any(e.get("endpoint") == "token" for e in attempt.events)

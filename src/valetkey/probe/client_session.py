"""What the client checks share: the app's login URL, a sandbox in probe mode that shows the
back channel and forges responses, browsers that sign in through the app, and the oracle
that tells whether a browser ended up signed in (see `valetkey.probe.signed_in`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import httpx

from valetkey.probe.signed_in import Look, Oracle, Undecidable, find_signal, look
from valetkey.useragent.agent import AgentError, UserAgent, Visit


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
    sandbox_token: str = ""  # the sandbox's admin token: the /probe API needs it
    signed_in_url: str | None = None  # where "signed in" shows, when the user knows
    signed_in_text: str | None = None  # what shows there when signed in


@dataclass
class Attempt:
    authorization_url: str
    params: dict[str, str]
    callback: str | None = None
    visit: Visit | None = None
    events: list[dict[str, Any]] = field(default_factory=list)
    look: Look | None = None  # the signed-in page, as the browser saw it after the callback
    cookies_set: frozenset[str] = frozenset()  # cookie names the app set after the callback


@dataclass
class Browser:
    agent: UserAgent
    responses: list[httpx.Response] = field(default_factory=list)

    def close(self) -> None:
        self.agent.close()

    def cookies(self) -> dict[str, str]:
        return {c.name: c.value or "" for c in self.agent.http.cookies.jar}


class ClientProbeSession:
    def __init__(self, target: ClientTarget) -> None:
        self.target = target
        headers = (
            {"authorization": f"Bearer {target.sandbox_token}"} if target.sandbox_token else {}
        )
        self.control = httpx.Client(base_url=target.sandbox, timeout=10.0, headers=headers)
        self.client_id = ""
        self.meta: dict[str, Any] = {}
        self.oracle: Oracle | None = None
        self.baseline: Attempt | None = None
        self.baseline_problem = ""  # why the normal sign-in did not complete, if it did not

    def open(self) -> None:
        answer = self.control.get("/probe/log", params={"since": 1 << 30})
        if answer.status_code == 401:
            raise ClientProbeError(
                "the sandbox refused the probe API: pass its admin token with --sandbox-token"
            )
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

    # -- the normal sign-in, and what "signed in" looks like --------------------------------

    def learn(self) -> str:
        """Sign in normally once; learn what signed in looks like. Returns a problem, or ""."""
        browser = self.browser()
        try:
            attempt = self.full(browser)
            self.baseline = attempt
            refused = [e for e in attempt.events if e.get("endpoint") == "token"]
            if refused and all(e.get("status") != 200 for e in refused):
                self.baseline_problem = (
                    f"the sandbox refused the app's token request ({refused[-1].get('error')})"
                )
            signal = find_signal(self, browser, attempt)
            self.oracle = Oracle(signal, self.target.signed_in_text)
            if self.target.signed_in_text and signal is None:
                self.oracle.undecided = (
                    f"{self.target.signed_in_text!r} shows nowhere after a normal sign-in"
                )
        except (ClientProbeError, AgentError, httpx.HTTPError) as exc:
            self.baseline_problem = str(exc)
        finally:
            browser.close()
        if self.oracle is not None and self.oracle.signal is None:
            self.baseline_problem = self.baseline_problem or self.oracle.undecided
        return self.baseline_problem

    # -- the flow, in pieces ----------------------------------------------------------------

    def start(
        self, browser: Browser, url: str | None = None, headers: dict[str, str] | None = None
    ) -> Attempt:
        """Open the app's login URL; stop where the app sends the browser to the sandbox."""
        if headers:
            browser.agent.http.headers.update(headers)
        try:
            visit = browser.agent.navigate(
                url or self.target.login_url, stop_at=lambda u: u.startswith(self.target.sandbox)
            )
        finally:
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
        """Open a callback URL in this browser, follow the app until it settles, and look at
        the signed-in page in the same browser."""
        attempt = attempt or Attempt("", {})
        mark = self.log_length()
        before = browser.cookies()
        # follow the app, and nothing else: a redirect elsewhere is recorded, not followed
        attempt.visit = browser.agent.navigate(
            url, stop_at=lambda u: not u.startswith(self.app_origin)
        )
        attempt.events = self.log_since(mark)
        after = browser.cookies()
        attempt.cookies_set = frozenset(n for n, v in after.items() if v and before.get(n) != v)
        signal = self.oracle.signal if self.oracle is not None else None
        if signal is not None and signal.url is not None:
            attempt.look = look(browser.agent.http, signal.url, self.app_origin)
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
        return int(self.control.get("/probe/log", params={"since": 1 << 30}).json()["next"])

    def log_since(self, mark: int) -> list[dict[str, Any]]:
        params: dict[str, str | int] = {"since": mark}
        if self.client_id:
            params["client_id"] = self.client_id
        return list(self.control.get("/probe/log", params=params).json()["events"])

    # -- oracles ----------------------------------------------------------------------------

    def signed_in(self, attempt: Attempt, username: str | None = None) -> bool:
        """Did the browser end up signed in (as `username`, when the signal names users)?
        Raises Undecidable when the probe could not learn what signed in looks like."""
        if self.oracle is None or self.oracle.signal is None:
            raise Undecidable(self.baseline_problem or "the normal sign-in did not complete")
        who = username or self.target.username
        return self.oracle.judge(attempt.look, attempt.events, attempt.cookies_set, who)

    @staticmethod
    def redeemed(attempt: Attempt) -> bool:
        """Did the app get tokens for the code (a refused redemption attempt does not count)?"""
        return any(e.get("endpoint") == "token" and e.get("status") == 200 for e in attempt.events)

    @staticmethod
    def sent_code(attempt: Attempt) -> bool:
        """Did the app send the code to the token endpoint at all?"""
        return any(e.get("endpoint") == "token" for e in attempt.events)

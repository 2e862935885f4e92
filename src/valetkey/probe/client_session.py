"""What the client checks share: the app's login URL, a sandbox in probe mode that shows the
back channel and forges responses, browsers that sign in through the app, and the oracle
that tells whether a browser ended up signed in (see `valetkey.probe.signed_in`)."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any, Literal
from urllib.parse import urlencode, urlsplit

import httpx

from valetkey.probe.signed_in import Look, Oracle, Undecidable, find_signal, look
from valetkey.useragent.agent import AgentError, Fields, UserAgent, Visit, verified_tls


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


Mode = Literal["query", "fragment", "form_post"]
FRONT_CHANNEL_TOKENS = ("access_token", "id_token")
FRAGMENT_UNSEEN = (
    "the authorization response comes back in the URL fragment, which only the app's page "
    "script reads, and the probe runs no scripts"
)


@dataclass(frozen=True)
class Callback:
    """An authorization response on its way to the app: where it goes, its parameters, and
    how it travels (the query, the fragment, or a form the sandbox's page POSTs)."""

    url: str  # the redirect URI, without the response's parameters
    params: Fields
    mode: Mode = "query"

    @classmethod
    def of_redirect(cls, location: str) -> Callback:
        url = httpx.URL(location)
        fragment = urlsplit(location).fragment  # still encoded
        if fragment:
            fields = tuple(httpx.QueryParams(fragment).multi_items())
            return cls(str(url.copy_with(fragment=None)), fields, "fragment")
        return cls(str(url.copy_with(query=None)), tuple(url.params.multi_items()))

    def get(self, name: str) -> str | None:
        return next((v for k, v in self.params if k == name), None)

    def without(self, name: str) -> Callback:
        return replace(self, params=tuple((k, v) for k, v in self.params if k != name))

    def with_param(self, name: str, value: str) -> Callback:
        """`name` set to `value`, where it was (appended when it was not there)."""
        if self.get(name) is None:
            return replace(self, params=(*self.params, (name, value)))
        return replace(self, params=tuple((k, value if k == name else v) for k, v in self.params))

    def with_params(self, params: dict[str, str]) -> Callback:
        return replace(self, params=tuple(params.items()))

    @property
    def carries_code(self) -> bool:
        return self.get("code") is not None

    def tokens(self) -> dict[str, str]:
        """The tokens the response itself carries (implicit flows), by parameter name."""
        return {k: v for k, v in self.params if k in FRONT_CHANNEL_TOKENS}

    @property
    def address(self) -> str:
        """The URL the browser is sent to (a fragment stays in the browser)."""
        if self.mode == "query":
            return str(httpx.URL(self.url).copy_merge_params(dict(self.params)))
        if self.mode == "fragment":
            return f"{self.url}#{urlencode(self.params)}"
        return self.url


@dataclass
class Attempt:
    authorization_url: str
    params: dict[str, str]
    callback: Callback | None = None
    visit: Visit | None = None
    events: list[dict[str, Any]] = field(default_factory=list)
    look: Look | None = None  # the signed-in page, as the browser saw it after the callback
    cookies_set: frozenset[str] = frozenset()  # cookie names the app set after the callback
    delivered: list[str] = field(default_factory=list)  # the callback URLs the probe opened


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
        self.control = httpx.Client(
            base_url=target.sandbox, timeout=10.0, headers=headers, verify=verified_tls()
        )
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
            if signal is None:
                self.baseline_problem = self.baseline_problem or _unfinished(attempt)
        except (ClientProbeError, AgentError, httpx.HTTPError) as exc:
            self.baseline_problem = str(exc)
        finally:
            browser.close()
        if self.oracle is not None and self.oracle.signal is None:
            self.baseline_problem = self.baseline_problem or self.oracle.undecided
        return self.baseline_problem

    @property
    def response_mode(self) -> Mode | None:
        """How the sandbox answered the app's normal sign-in (None: it never answered)."""
        if self.baseline is None or self.baseline.callback is None:
            return None
        return self.baseline.callback.mode

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

    def authorize(self, browser: Browser, attempt: Attempt) -> Callback:
        """Log in and consent at the sandbox; stop where it sends the browser back (by a
        redirect, or by the form its page would POST)."""
        visit = browser.agent.navigate(
            attempt.authorization_url, stop_at=lambda u: not u.startswith(self.target.sandbox)
        )
        if visit.stopped_at is None:
            raise ClientProbeError("the sandbox did not send the browser back to the app")
        if visit.posted is not None:
            callback = Callback(visit.stopped_at, visit.posted, "form_post")
        else:
            callback = Callback.of_redirect(visit.stopped_at)
        attempt.callback = callback
        return callback

    def deliver(
        self, browser: Browser, callback: Callback, attempt: Attempt | None = None
    ) -> Attempt:
        """Deliver an authorization response in this browser, follow the app until it
        settles, and look at the signed-in page in the same browser."""
        attempt = attempt or Attempt("", {})
        mark = self.log_length()
        before = browser.cookies()
        post = callback.params if callback.mode == "form_post" else None
        attempt.delivered.append(callback.address)
        # follow the app, and nothing else: a redirect elsewhere is recorded, not followed
        attempt.visit = browser.agent.navigate(
            callback.address, stop_at=lambda u: not u.startswith(self.app_origin), post=post
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


def _unfinished(attempt: Attempt) -> str:
    """Why a normal sign-in may not have completed, when the traffic says ("" if not)."""
    callback = attempt.callback
    if callback is None:
        return ""
    error = callback.get("error")
    if error is not None:
        said = callback.get("error_description") or ""
        return f"the sandbox refused the app's authorization request ({error}: {said})"
    return FRAGMENT_UNSEEN if callback.mode == "fragment" else ""

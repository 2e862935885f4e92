"""Is this browser signed in to the app? An oracle that works for apps the probe has never
seen, learned from one normal sign-in.

After a good sign-in the probe compares what the signed-in browser and a fresh one get from
the pages the app reached (the landing page and its links) and from common places
(`/me`, `/profile`, `/account`, `/dashboard`, `/api/me`, `/`). The strongest signal is a page
that names the user only when signed in; then a page whose status or final URL differs; then
a cookie set only at the callback; then a call to the sandbox's API or userinfo with the new
token. Where none differs, the verdict is undecidable: the checks that need it are n/a.
The user can name the page and the text (`--signed-in-url`, `--signed-in-text`)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Literal, Protocol
from urllib.parse import urljoin, urlsplit

import httpx

from valetkey.useragent.agent import UserAgent, Visit, verified_tls

COMMON_PATHS = ("/me", "/profile", "/account", "/dashboard", "/api/me", "/")
MAX_LINKS = 6
MAX_HOPS = 5
LEAVING_WORDS = ("logout", "log-out", "signout", "sign-out", "login", "callback")
HREF = re.compile(r"""href\s*=\s*["']([^"'#]+)["']""", re.IGNORECASE)
UNDECIDABLE = (
    "cannot tell when the app is signed in: no page, cookie or API call differs between a "
    "signed-in and a fresh browser; say where it shows with --signed-in-url/--signed-in-text"
)

Kind = Literal["name", "page", "cookie", "api"]


class Undecidable(RuntimeError):
    """The probe cannot tell whether the app signed the browser in; the check is n/a."""


# What the oracle reads of the client probe's session (`client_session` implements these;
# described here so that the two modules do not import each other).


class Attempt(Protocol):
    @property
    def visit(self) -> Visit | None: ...
    @property
    def events(self) -> list[dict[str, Any]]: ...
    @property
    def cookies_set(self) -> frozenset[str]: ...


class Browser(Protocol):
    @property
    def agent(self) -> UserAgent: ...
    def cookies(self) -> dict[str, str]: ...
    def close(self) -> None: ...


class Target(Protocol):
    @property
    def username(self) -> str: ...
    @property
    def signed_in_url(self) -> str | None: ...
    @property
    def signed_in_text(self) -> str | None: ...


class ClientProbeSession(Protocol):
    @property
    def target(self) -> Target: ...
    @property
    def app_origin(self) -> str: ...
    def browser(self) -> Browser: ...
    def start(self, browser: Any) -> object: ...


@dataclass(frozen=True)
class Look:
    status: int  # 0: the app did not answer
    path: str  # where the app settled; "" when it sent the browser off the app
    text: str


@dataclass(frozen=True)
class SignInSignal:
    kind: Kind
    url: str | None = None  # the page to look at (name and page signals)
    signed: Look | None = None  # what a signed-in browser got there
    cookie: str = ""  # the cookie set only by a good sign-in (cookie signal)

    def describe(self) -> str:
        if self.kind in ("name", "page"):
            return f"{self.kind} at {self.url}"
        return f"cookie {self.cookie}" if self.kind == "cookie" else "API calls with the token"


def look(http: httpx.Client, url: str, app_origin: str) -> Look:
    """GET `url` with this browser's cookies, following redirects on the app's origin only."""
    try:
        response = http.get(url)
        for _ in range(MAX_HOPS):
            if not response.is_redirect:
                break
            target = urljoin(str(response.url), response.headers["location"])
            if not target.startswith(app_origin):
                return Look(response.status_code, "", "")
            response = http.get(target)
    except httpx.HTTPError:
        return Look(0, "", "")
    return Look(response.status_code, response.url.path, response.text[:200_000])


def names(text: str, who: str) -> bool:
    return re.search(rf"(?<![\w-]){re.escape(who)}(?![\w-])", text, re.IGNORECASE) is not None


@dataclass
class Oracle:
    signal: SignInSignal | None
    text: str | None  # --signed-in-text
    undecided: str = UNDECIDABLE

    def judge(
        self,
        seen: Look | None,
        events: list[dict[str, Any]],
        cookies_set: frozenset[str],
        username: str,
    ) -> bool:
        signal = self.signal
        if signal is None:
            raise Undecidable(self.undecided)
        if signal.kind == "name":
            return seen is not None and names(seen.text, self.text or username)
        if signal.kind == "page":
            assert signal.signed is not None
            return seen is not None and (seen.status, seen.path) == (
                signal.signed.status,
                signal.signed.path,
            )
        if signal.kind == "cookie":
            return signal.cookie in cookies_set
        return any(e.get("endpoint") == "resource" and e.get("status") == 200 for e in events)


def candidates(s: ClientProbeSession, attempt: Attempt) -> list[str]:
    if s.target.signed_in_url:
        return [urljoin(s.app_origin, s.target.signed_in_url)]
    found: list[str] = []
    response = attempt.visit.response if attempt.visit is not None else None
    if response is not None and str(response.url).startswith(s.app_origin):
        found.append(str(response.url))
        for href in HREF.findall(response.text)[:40]:
            url = urljoin(str(response.url), href)
            wanted = url.startswith(s.app_origin) and not any(
                w in urlsplit(url).path.lower() for w in LEAVING_WORDS
            )
            if wanted and url not in found and len(found) <= MAX_LINKS:
                found.append(url)
    found += [s.app_origin + p for p in COMMON_PATHS if s.app_origin + p not in found]
    return found


def find_signal(s: ClientProbeSession, browser: Browser, attempt: Attempt) -> SignInSignal | None:
    """What tells this app's signed-in browser from a fresh one (None: nothing does)."""
    who = s.target.signed_in_text or s.target.username
    page: SignInSignal | None = None
    with httpx.Client(timeout=10.0, verify=verified_tls()) as fresh:
        for url in candidates(s, attempt):
            signed, stranger = (
                look(browser.agent.http, url, s.app_origin),
                look(fresh, url, s.app_origin),
            )
            if signed.status == 200 and names(signed.text, who) and not names(stranger.text, who):
                return SignInSignal("name", url, signed)
            differs = (signed.status, signed.path) != (stranger.status, stranger.path)
            if page is None and signed.status == 200 and differs:
                page = SignInSignal("page", url, signed)
    if s.target.signed_in_text:
        return None  # the user said what to look for, and it is nowhere
    return page or _cookie_signal(s, attempt) or _api_signal(attempt)


def _cookie_signal(s: ClientProbeSession, attempt: Attempt) -> SignInSignal | None:
    """A cookie the callback set that a browser merely starting a sign-in does not get."""
    starter = s.browser()
    try:
        s.start(starter)
        before = set(starter.cookies())
    finally:
        starter.close()
    fresh = sorted(attempt.cookies_set - before)
    return SignInSignal("cookie", cookie=fresh[0]) if fresh else None


def _api_signal(attempt: Attempt) -> SignInSignal | None:
    calls = [
        e for e in attempt.events if e.get("endpoint") == "resource" and e.get("status") == 200
    ]
    return SignInSignal("api") if calls else None

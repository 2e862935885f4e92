"""Complete authorization-code + PKCE flows driven through the providers' own HTML forms.

Each flow is a fresh browser (an empty cookie jar): authorization request, every redirect,
every login or consent form the provider shows (filled from `FlowTarget.fill`), the redirect
back with the code, then the token request with the PKCE verifier. Workers share a
keep-alive connection pool, as one browser process would.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import parse_qs, urljoin, urlsplit

import httpx

MAX_STEPS = 12
REQUEST_TIMEOUT_S = 30.0
REDIRECTS = (301, 302, 303, 307, 308)


class FlowError(RuntimeError):
    """A flow that did not end with tokens."""


@dataclass(frozen=True)
class FlowTarget:
    authorize_url: str
    token_url: str
    client_id: str
    client_secret: str
    redirect_uri: str
    scope: str
    fill: dict[str, str]


@dataclass
class Form:
    method: str
    action: str
    fields: list[tuple[str, str, str]] = field(default_factory=list)  # (name, type, value)
    buttons: list[tuple[str, str]] = field(default_factory=list)  # (name, value)


class _FormParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.forms: list[Form] = []
        self._open = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form":
            self.forms.append(Form(a.get("method", "get").lower(), a.get("action", "")))
            self._open = True
        elif self._open and tag == "input" and a.get("name"):
            self.forms[-1].fields.append((a["name"], a.get("type", "text"), a.get("value", "")))
        elif self._open and tag == "button" and a.get("name"):
            self.forms[-1].buttons.append((a["name"], a.get("value", "")))

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._open = False


def _first_post_form(html: str) -> Form:
    parser = _FormParser()
    parser.feed(html)
    for form in parser.forms:
        if form.method == "post":
            return form
    raise FlowError("the page has no POST form")


def form_data(form: Form, fill: dict[str, str]) -> dict[str, str]:
    data = {}
    for name, kind, value in form.fields:
        if name in fill:
            data[name] = fill[name]
        elif kind in ("hidden", "text", "password", "email"):
            data[name] = value
    for name, value in form.buttons:
        if fill.get(name) == value:
            data[name] = value
    return data


def _pkce() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    digest = hashlib.sha256(verifier.encode()).digest()
    return verifier, base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


@dataclass
class FlowCounts:
    requests: int = 0
    forms: int = 0


def _walk(
    client: httpx.Client, target: FlowTarget, first: httpx.Response, counts: FlowCounts
) -> str:
    """Follow redirects and submit forms until the redirect to the client; the code."""
    response = first
    for _ in range(MAX_STEPS):
        if response.status_code in REDIRECTS:
            location = urljoin(str(response.url), response.headers["location"])
            if location.startswith(target.redirect_uri):
                return location
            response = client.get(location)
        elif response.status_code == 200 and "<form" in response.text:
            form = _first_post_form(response.text)
            action = urljoin(str(response.url), form.action or str(response.url))
            response = client.post(action, data=form_data(form, target.fill))
            counts.forms += 1
        else:
            raise FlowError(f"{response.status_code} at {response.url}: {response.text[:200]}")
        counts.requests += 1
    raise FlowError(f"no redirect to the client within {MAX_STEPS} steps")


def _authorize(client: httpx.Client, target: FlowTarget, state: str) -> tuple[httpx.Response, str]:
    """A fresh browser's authorization request; the first response and the PKCE verifier."""
    client.cookies = httpx.Cookies()
    verifier, challenge = _pkce()
    params = {
        "client_id": target.client_id,
        "redirect_uri": target.redirect_uri,
        "response_type": "code",
        "scope": target.scope,
        "state": state,
        "nonce": secrets.token_urlsafe(16),
        "code_challenge": challenge,
        "code_challenge_method": "S256",
    }
    return client.get(target.authorize_url, params=params), verifier


def password_refused(target: FlowTarget, wrong: str) -> bool:
    """Pre-flight: submit the first form with a password field once with `wrong`; True when
    the provider does not go on with the flow (any answer but a redirect). One attempt only,
    so that no login backoff is triggered for the measured flows."""
    with httpx.Client(timeout=REQUEST_TIMEOUT_S, trust_env=False) as client:
        response, _ = _authorize(client, target, secrets.token_urlsafe(16))
        for _ in range(MAX_STEPS):
            if response.status_code in REDIRECTS:
                location = urljoin(str(response.url), response.headers["location"])
                if location.startswith(target.redirect_uri):
                    return False  # a code without any password form
                response = client.get(location)
            elif response.status_code == 200 and "<form" in response.text:
                form = _first_post_form(response.text)
                secret_fields = [name for name, kind, _ in form.fields if kind == "password"]
                fill = {**target.fill, **dict.fromkeys(secret_fields, wrong)}
                action = urljoin(str(response.url), form.action or str(response.url))
                response = client.post(action, data=form_data(form, fill))
                if secret_fields:
                    return response.status_code not in REDIRECTS
            else:
                raise FlowError(f"{response.status_code} at {response.url} before any login")
    raise FlowError(f"no password form within {MAX_STEPS} steps")


def one_flow(client: httpx.Client, target: FlowTarget, counts: FlowCounts) -> dict[str, object]:
    """One complete flow; the token response."""
    state = secrets.token_urlsafe(16)
    first, verifier = _authorize(client, target, state)
    counts.requests += 1
    query = parse_qs(urlsplit(_walk(client, target, first, counts)).query)
    if query.get("state") != [state] or "code" not in query:
        raise FlowError(f"bad redirect back to the client: {query}")
    tokens = _redeem(client, target, query["code"][0], verifier)
    counts.requests += 1
    return tokens


def _redeem(
    client: httpx.Client, target: FlowTarget, code: str, verifier: str
) -> dict[str, object]:
    body = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": target.redirect_uri,
        "code_verifier": verifier,
    }
    auth = httpx.BasicAuth(target.client_id, target.client_secret)
    response = client.post(target.token_url, data=body, auth=auth)
    if response.status_code != 200 or "access_token" not in response.json():
        raise FlowError(f"token request: {response.status_code} {response.text[:200]}")
    return dict(response.json())


@dataclass(frozen=True)
class FlowRun:
    flows: int
    errors: int
    seconds: float
    requests_per_flow: float
    forms_per_flow: float
    driver_cpu_ms_per_flow: float
    first_error: str | None

    @property
    def flows_per_s(self) -> float:
        return self.flows / self.seconds if self.seconds > 0 else 0.0


@dataclass
class _Tally:
    lock: threading.Lock = field(default_factory=threading.Lock)
    flows: int = 0
    errors: int = 0
    counts: FlowCounts = field(default_factory=FlowCounts)
    first_error: str | None = None


def _worker(
    target: FlowTarget, transport: httpx.HTTPTransport, stop_at: float, cap: int, tally: _Tally
) -> None:
    client = httpx.Client(transport=transport, timeout=REQUEST_TIMEOUT_S, trust_env=False)
    while time.perf_counter() < stop_at and tally.flows + tally.errors < cap:
        counts = FlowCounts()
        try:
            one_flow(client, target, counts)
        except (FlowError, httpx.HTTPError, ValueError, KeyError) as exc:
            with tally.lock:
                tally.errors += 1
                tally.first_error = tally.first_error or f"{type(exc).__name__}: {exc}"
            continue
        with tally.lock:
            tally.flows += 1
            tally.counts.requests += counts.requests
            tally.counts.forms += counts.forms


def run_flows(target: FlowTarget, concurrency: int, seconds: float, cap: int) -> FlowRun:
    """As many complete flows as fit in `seconds` (at most `cap`), `concurrency` at a time."""
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    transport = httpx.HTTPTransport(limits=limits)
    tally = _Tally()
    cpu_started = time.process_time()
    started = time.perf_counter()
    try:
        with ThreadPoolExecutor(concurrency) as pool:
            for _ in range(concurrency):
                pool.submit(_worker, target, transport, started + seconds, cap, tally)
        elapsed = time.perf_counter() - started
        driver_cpu = time.process_time() - cpu_started
    finally:
        transport.close()
    done = max(tally.flows, 1)
    return FlowRun(
        flows=tally.flows,
        errors=tally.errors,
        seconds=elapsed,
        requests_per_flow=tally.counts.requests / done,
        forms_per_flow=tally.counts.forms / done,
        driver_cpu_ms_per_flow=1000 * driver_cpu / done,
        first_error=tally.first_error,
    )

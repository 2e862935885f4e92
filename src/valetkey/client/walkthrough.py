"""`valetkey demo`: the sandbox, the photo-printer app and a scripted browser, with every
message of the flow printed as it happens and the password's path proven from the traffic.
"""

from __future__ import annotations

import secrets
import tempfile
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol
from urllib.parse import parse_qsl, urlsplit

import httpx
from flask import Flask
from rich.console import Console

from valetkey.client import apps
from valetkey.client.config import ClientConfig, ClientLab
from valetkey.client.recording import Message, Traffic
from valetkey.client.server import BackgroundServer, free_socket
from valetkey.oauth.redaction import fingerprint, masked
from valetkey.oauth.vocabulary import AUTHORIZATION_SERVER as AS
from valetkey.oauth.vocabulary import BROWSER, CLIENT
from valetkey.oauth.vocabulary import RESOURCE_SERVER as RS
from valetkey.sandbox import Sandbox, start
from valetkey.trace import records
from valetkey.useragent.agent import AgentError, UserAgent

NAMES = {
    BROWSER: "browser",
    CLIENT: "client",
    AS: "authorization server",
    RS: "resource server",
    "elsewhere": "elsewhere",
}
STEPS = {
    1: "Authorization request: the app sends the browser to the authorization server "
    "with state, a PKCE challenge and a nonce",
    2: "Login and consent, at the authorization server and nowhere else",
    3: "Authorization response: a short-lived code comes back through the browser, "
    "with the same state and the issuer (iss)",
    4: "Code exchange on the back channel: code, client secret and PKCE verifier for "
    "tokens; the app verifies the ID token",
    5: "API call: the access token, in the Authorization header, fetches the photos",
}
DEMO_CLIENT = "photo-printer-demo"


class WalkthroughFailed(RuntimeError):
    def __init__(self, step: int, reason: str) -> None:
        super().__init__(f"step {step} failed: {reason}")
        self.step = step


class StoppedAt(Protocol):
    """Why a walkthrough stopped: an exception that names its step."""

    step: int


@dataclass
class DemoResult:
    ok: bool
    confinement_ok: bool
    confinement: str
    diagram: Path | None
    failed_step: int | None = None
    reason: str = ""
    messages: list[Message] = field(default_factory=list)

    @classmethod
    def ended(
        cls,
        failed: StoppedAt | None,
        proven: bool,
        line: str,
        diagram: Path | None,
        messages: list[Message],
    ) -> DemoResult:
        """The result of a walkthrough that stopped at `failed` (None: went through)."""
        return cls(
            failed is None and proven,
            proven,
            line,
            diagram,
            failed.step if failed else None,
            str(failed or ""),
            messages,
        )


def step_of(message: Message, callback_path: str) -> int:
    path = message.path
    if message.sender == CLIENT:
        if message.receiver == RS:
            return 5
        return 1 if path.startswith("/.well-known") else 4
    if message.receiver == AS:
        return 1 if path == "/authorize" else 2
    if message.receiver == CLIENT:
        if path == callback_path:
            return 3
        return 5 if path == "/photos" else 1
    return 1


def describe(message: Message) -> str:
    """What the message carried, secrets masked: query, form body, Authorization header."""
    parts = dict(parse_qsl(urlsplit(message.url).query))
    if message.headers.get("content-type", "").startswith("application/x-www-form-urlencoded"):
        parts.update(parse_qsl(message.body))
    shown = masked(parts)
    auth = message.headers.get("authorization", "")
    if auth.lower().startswith("basic "):
        shown["client authentication"] = "Basic (client id and secret, hidden)"
    elif auth.lower().startswith("bearer "):
        shown["Authorization"] = "Bearer " + fingerprint(auth[7:])
    shown.pop("csrf", None)
    return ", ".join(f"{k}={v}" for k, v in shown.items())


class Printer:
    def __init__(self, console: Console, callback_path: str) -> None:
        self.console = console
        self.callback_path = callback_path
        self.step = 0

    def __call__(self, message: Message) -> None:
        if message.tap == "app-in" or message.path.startswith("/static/"):
            return
        step = step_of(message, self.callback_path)
        if step != self.step:
            self.step = step
            self.console.print(f"\n[bold]Step {step}[/bold]  {STEPS[step]}")
        print_message(self.console, message, NAMES, message.sender != CLIENT, (8, 21))


def print_message(
    console: Console,
    message: Message,
    names: Mapping[str, str],
    front: bool,
    widths: tuple[int, int],
) -> None:
    """One message as a walkthrough prints it: who to whom, on which channel, and what it
    carried (secrets masked); `widths` line up the sender and receiver names."""
    sender = names.get(message.sender, message.sender)
    receiver = names.get(message.receiver, message.receiver)
    channel = "front channel" if front else "back channel"
    console.print(
        f"  {sender:>{widths[0]}} → {receiver:<{widths[1]}} "
        f"{message.method} {message.path}  [dim]({channel})[/dim]",
        highlight=False,
    )
    carried = describe(message)
    if carried:
        console.print(f"      [dim]carries[/dim] {carried}", highlight=False, soft_wrap=True)


def confinement(messages: list[Message], password: str, issuer: str) -> tuple[bool, str]:
    """Where the password went, from the recorded traffic alone."""
    carrying = [m for m in messages if m.carries(password)]
    to_as = [
        m
        for m in carrying
        if m.tap == "browser" and m.receiver == AS and m.path == "/login" and m.method == "POST"
    ]
    at_client = [m for m in carrying if m.tap == "app-in"]
    from_client = [m for m in carrying if m.tap == "app-out"]
    elsewhere = [
        m
        for m in carrying
        if m not in to_as and m not in at_client and m not in from_client and m.receiver != CLIENT
    ]
    counts = (
        f"the client received it {len(at_client)} time(s) and sent it {len(from_client)} time(s)"
    )
    if not to_as:
        return False, f"FAILED: the password never reached the authorization server; {counts}"
    if at_client or from_client or elsewhere:
        where = ", ".join(
            sorted(
                {f"{m.method} {m.url.split('?')[0]}" for m in at_client + from_client + elsewhere}
            )
        )
        return (
            False,
            f"FAILED: the password left the authorization server's page: {where}; {counts}",
        )
    return True, (
        f"the password was sent {len(to_as)} time(s), only from the browser to the "
        f"authorization server (POST {issuer}/login); {counts}"
    )


def _register_client(sandbox: Sandbox, redirect_uri: str, secret: str) -> None:
    sandbox.add_client(
        DEMO_CLIENT,
        [redirect_uri],
        secret=secret,
        name="Photo Printer",
        scopes="openid profile photos.read",
    )


def build_app(variant: str, config: ClientConfig, traffic: Traffic) -> Flask:
    http = httpx.Client(timeout=10.0, event_hooks=traffic.httpx_hooks(CLIENT, "app-out"))
    app = apps.create_app(variant, config, http, session_hook=traffic.requests_session_hook)
    app.wsgi_app = traffic.wsgi(app.wsgi_app)  # type: ignore[method-assign]
    return app


@dataclass
class Running:
    sandbox: Sandbox
    app: BackgroundServer
    config: ClientConfig
    traffic: Traffic
    password: str


@contextmanager
def running(variant: str, lab: frozenset[ClientLab], work: Path) -> Iterator[Running]:
    sandbox = start(work / "sandbox")
    server: BackgroundServer | None = None
    try:
        sock = free_socket()
        origin = f"http://127.0.0.1:{sock.getsockname()[1]}"
        secret = secrets.token_urlsafe(32)
        _register_client(sandbox, origin + "/callback", secret)
        config = ClientConfig.for_sandbox(
            sandbox.issuer, DEMO_CLIENT, secret, origin + "/callback", lab
        )
        traffic = Traffic(sandbox.issuer, origin)
        server = BackgroundServer(build_app(variant, config, traffic), sock).start()
        yield Running(sandbox, server, config, traffic, str(sandbox.creds["users"]["alice"]))
    finally:
        if server is not None:
            server.stop()
        sandbox.stop()


def _walk(run: Running, console: Console) -> None:
    agent = UserAgent("alice", run.password, hooks=run.traffic.httpx_hooks(BROWSER, "browser"))
    try:
        visit = agent.navigate(run.app.url + "/login")
    except AgentError as exc:
        raise WalkthroughFailed(2, str(exc)) from None
    except httpx.HTTPError as exc:
        raise WalkthroughFailed(1, f"HTTP error: {exc}") from None
    finally:
        agent.close()
    final = visit.response
    if urlsplit(str(final.url)).path != "/photos" or final.status_code != 200:
        step = 3 if run.config.callback_path in str(final.url) else 5
        raise WalkthroughFailed(step, f"ended at {final.url} with status {final.status_code}")
    if "Your photos" not in final.text:
        raise WalkthroughFailed(5, "the photos page shows no photos")
    console.print(f"\n[green]The browser shows alice's photos at {final.url}[/green]")


def _diagram(sandbox: Sandbox, out: Path) -> Path | None:
    """The flow as the sandbox recorded it (read over its admin API), drawn by the
    inspector's own code."""
    flow = next(iter(sandbox.flows(client_id=DEMO_CLIENT)), None)
    if flow is None:
        return None
    svg = records.svg(
        sandbox.flow_events(flow["id"]), "The authorization-code flow, as the sandbox recorded it"
    )
    out.mkdir(parents=True, exist_ok=True)
    path = out / f"flow-{time.strftime('%Y%m%d-%H%M%S')}-{flow['id'][:6]}.svg"
    path.write_text(svg)
    return path


def run_demo(
    variant: str,
    out: Path,
    console: Console,
    lab: frozenset[ClientLab] = frozenset(),
    serve: bool = False,
) -> DemoResult:
    with (
        tempfile.TemporaryDirectory(prefix="valetkey-demo-") as tmp,
        running(variant, lab, Path(tmp)) as run,
    ):
        _participants(run, variant, console)
        run.traffic.listeners.append(Printer(console, run.config.callback_path))
        failed: WalkthroughFailed | None = None
        try:
            _walk(run, console)
        except WalkthroughFailed as exc:
            failed = exc
        messages = list(run.traffic.messages)
        ok_conf, line = confinement(messages, run.password, run.sandbox.issuer)
        diagram = _diagram(run.sandbox, out)
        _summary(console, failed, ok_conf, line, diagram)
        if serve and failed is None:
            _serve_forever(run, console)
        return DemoResult.ended(failed, ok_conf, line, diagram, messages)


def _participants(run: Running, variant: str, console: Console) -> None:
    console.print("[bold]valetkey demo[/bold]: the authorization-code flow, step by step\n")
    console.print("Participants")
    console.print("  resource owner        alice, in a scripted browser")
    console.print(f"  client                Photo Printer ({variant}) at {run.app.url}")
    console.print(f"  authorization server  valetkey sandbox at {run.sandbox.issuer}")
    console.print(f"  resource server       photos API at {run.sandbox.issuer}/api")


def _summary(
    console: Console,
    failed: WalkthroughFailed | None,
    ok_conf: bool,
    line: str,
    diagram: Path | None,
) -> None:
    failure = f"The walkthrough failed at {failed}" if failed is not None else None
    print_summary(console, failure, diagram, "Password confinement", ok_conf, line)


def print_summary(
    console: Console, failure: str | None, diagram: Path | None, proof: str, ok: bool, line: str
) -> None:
    """A walkthrough's last lines: what failed, where the diagram is, and the proof."""
    console.print()
    if failure is not None:
        console.print(f"[red]{failure}[/red]")
    if diagram is not None:
        console.print(f"Sequence diagram: {diagram}")
    color = "green" if ok else "red"
    console.print(f"[{color}]{proof}:[/{color}] {line}", highlight=False)


def _serve_forever(run: Running, console: Console) -> None:
    serve_until_interrupted(
        run.sandbox,
        console,
        f"\nBoth servers keep running. Open {run.app.url}/ in a browser and sign in as "
        f"alice (password {run.password}). Press Ctrl-C to stop.",
    )


def serve_until_interrupted(sandbox: Sandbox, console: Console, invitation: str) -> None:
    """Keep a walkthrough's servers up (`--serve`) until Ctrl-C or the sandbox stops."""
    console.print(invitation)
    try:
        while sandbox.running():
            time.sleep(0.5)
    except KeyboardInterrupt:
        console.print("stopping")

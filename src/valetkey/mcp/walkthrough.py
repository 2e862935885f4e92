"""`valetkey demo --mcp`: the sandbox, the reference MCP server, a step-by-step MCP client and
a scripted browser, with every message printed as it happens and, at the end, a proof from
the recorded traffic of where the tokens went.

Three taps feed one log: the MCP client's requests (and the JSON it got back), the browser's,
and the MCP server's own requests (an httpx client it is built with); the client's small web
home records what reached it (its metadata document, fetched by the sandbox, and the
callback, reached by the browser).
"""

from __future__ import annotations

import queue
import secrets
import tempfile
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from flask import Flask, jsonify, request
from rich.console import Console

from valetkey.client.recording import Message, Traffic
from valetkey.client.server import AsgiServer, BackgroundServer, free_socket
from valetkey.client.walkthrough import (
    DemoResult,
    describe,
    print_message,
    print_summary,
    serve_until_interrupted,
)
from valetkey.mcp.client import McpClient, McpFlowError, Pending, Registration, Tokens, tool_text
from valetkey.mcp.confinement import token_confinement
from valetkey.mcp.metadata import origin_of
from valetkey.mcp.server import McpSettings, build_app
from valetkey.mcp.upstream import Credentials
from valetkey.oauth.flow import FlowEvent
from valetkey.oauth.jose import MalformedJwt, unverified_claims
from valetkey.oauth.vocabulary import AUTHORIZATION_SERVER as AS
from valetkey.oauth.vocabulary import BROWSER, MCP_CLIENT, MCP_PARTICIPANTS, MCP_SERVER
from valetkey.oauth.vocabulary import UPSTREAM_API as API
from valetkey.provider.client_documents import FETCHER
from valetkey.provider.demo_data import MCP_SCOPES
from valetkey.sandbox import Sandbox, start
from valetkey.trace import records
from valetkey.trace.diagram import Arrow, render_svg
from valetkey.useragent.agent import AgentError, UserAgent

NAMES = {p.id: p.name for p in MCP_PARTICIPANTS} | {"elsewhere": "elsewhere"}
STEPS = {
    1: "The MCP client calls the server without a token: 401, and a challenge that says "
    "where to look",
    2: "Protected-resource metadata (RFC 9728): the server names its authorization server",
    3: "Authorization-server metadata (RFC 8414): endpoints, PKCE S256, how to register",
    4: "Registration: a client ID metadata document, then RFC 7591 dynamic registration",
    5: "Authorization request with PKCE S256 and resource = the MCP server; the user signs "
    "in and consents at the sandbox",
    6: "Token request on the back channel: code, verifier and the same resource",
    7: "tools/call with the access token, in the Authorization header",
    8: "Step-up: print_photo needs photos.print; 403 insufficient_scope names it, the client "
    "asks again",
    9: "Refresh: a new access token for the same resource, without the user",
    10: "The dynamically registered client, through steps 5 to 7",
}
CLIENT_NAME = "valetkey demo MCP client"
UPSTREAM_CLIENT = "mcp-photos-upstream"
USER = "alice"


class Home:
    """The MCP client's own web home on loopback: its client ID metadata document (an https
    URL in production; the sandbox takes http on loopback) and its loopback redirect URI
    (RFC 8252 §7.3), which hands the authorization response to the waiting client."""

    def __init__(self, traffic: Traffic) -> None:
        self.sock = free_socket()
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}"
        self.document_url = self.url + "/client.json"
        self.redirect_uri = self.url + "/callback"
        self.answers: queue.Queue[dict[str, str]] = queue.Queue()
        app = Flask("valetkey-demo-mcp-client")
        app.add_url_rule("/client.json", "document", self._document)
        app.add_url_rule("/callback", "callback", self._callback)
        app.wsgi_app = traffic.wsgi(  # type: ignore[method-assign]
            app.wsgi_app, "client-in", _sender_of_home_request, self.url
        )
        self.server = BackgroundServer(app, self.sock)

    def _document(self) -> Any:
        response = jsonify(
            client_id=self.document_url,  # draft-ietf-oauth-client-id-metadata-document §4.1
            client_name=CLIENT_NAME,
            redirect_uris=[self.redirect_uri],
            grant_types=["authorization_code", "refresh_token"],
            response_types=["code"],
            token_endpoint_auth_method="none",  # noqa: S106 (a method name)
        )
        response.headers["cache-control"] = "max-age=600"
        return response

    def _callback(self) -> str:
        self.answers.put(dict(request.args))
        return "The MCP client has the answer; you may close this window."

    def answer(self) -> dict[str, str]:
        try:
            return self.answers.get(timeout=10)
        except queue.Empty:
            raise McpFlowError(5, "the browser never reached the client's callback") from None


def _sender_of_home_request(path: str, headers: dict[str, str]) -> str:
    """The sandbox names itself when it fetches a metadata document; the browser reaches
    the callback; anyone else is "elsewhere"."""
    if headers.get("user_agent") == FETCHER:
        return AS
    return BROWSER if path == "/callback" else "elsewhere"


def _seen_by_browser_tap(message: Message) -> bool:
    """The callback as the client's home received it: the browser's tap recorded it too."""
    return message.tap == "client-in" and message.sender == BROWSER


@dataclass
class Running:
    sandbox: Sandbox
    mcp_url: str
    home: Home
    traffic: Traffic
    password: str


def _places(sandbox: Sandbox, mcp_url: str, home: Home) -> tuple[tuple[str, str], ...]:
    return (
        (origin_of(mcp_url) + "/", MCP_SERVER),
        (home.url + "/", MCP_CLIENT),
        (sandbox.issuer + "/api/", API),
        (sandbox.issuer + "/", AS),
    )


@contextmanager
def running(work: Path) -> Iterator[Running]:
    with ExitStack() as stack:
        sandbox = start(work / "sandbox")
        stack.callback(sandbox.stop)
        sock = free_socket()
        mcp_url = f"http://127.0.0.1:{sock.getsockname()[1]}/mcp"
        sandbox.add_resource(mcp_url, MCP_SCOPES, name="Photos (MCP)")
        own = sandbox.add_client(
            UPSTREAM_CLIENT, [mcp_url], scopes="photos.read", grants=("client_credentials",)
        )
        assert own.client_secret is not None
        traffic = Traffic(sandbox.issuer)
        home = Home(traffic)
        traffic.places = _places(sandbox, mcp_url, home)
        http = httpx.AsyncClient(
            timeout=10.0, event_hooks=traffic.async_httpx_hooks(MCP_SERVER, "mcp-out")
        )
        settings = McpSettings(
            mcp_url, sandbox.issuer, Credentials(own.client_id, own.client_secret)
        )
        server = AsgiServer(build_app(settings, http), sock, lifespan="on").start()
        stack.callback(server.stop)
        stack.callback(home.server.stop)
        home.server.start()
        yield Running(sandbox, mcp_url, home, traffic, str(sandbox.creds["users"][USER]))


class Printer:
    """Prints each message as it is recorded, under the step the walkthrough is in."""

    def __init__(self, console: Console) -> None:
        self.console = console
        self.step = 0
        self.steps: dict[int, int] = {}  # message seq -> step

    def begin(self, step: int) -> None:
        self.step = step
        self.console.print(f"\n[bold]Step {step}[/bold]  {STEPS[step]}")

    def say(self, text: str) -> None:
        self.console.print(f"      [green]→[/green] {text}", highlight=False, soft_wrap=True)

    def __call__(self, message: Message) -> None:
        self.steps[message.seq] = self.step
        if _seen_by_browser_tap(message):
            return
        front = BROWSER in (message.sender, message.receiver)
        print_message(self.console, message, NAMES, front, (20, 20))


@dataclass
class Walk:
    """One walkthrough's client side: the MCP client and the user's browser."""

    run: Running
    client: McpClient
    browser: UserAgent
    printer: Printer

    def authorize(self, registration: Registration, scope: str) -> Tokens:
        """Steps 5 and 6: the user's part at the sandbox, then the code exchange."""
        url, pending = self.client.authorization_url(registration, scope)
        self._sign_in(url)
        answer = self.run.home.answer()
        code = self.client.code(answer, pending)
        self.printer.say(
            f"state matches, iss = {answer.get('iss')} (RFC 9207); code for {registration.how}"
        )
        return self._exchange(pending, code)

    def _sign_in(self, url: str) -> None:
        try:
            visit = self.browser.navigate(url)
        except AgentError as exc:
            raise McpFlowError(5, str(exc)) from None
        if not str(visit.response.url).startswith(self.run.home.redirect_uri):
            raise McpFlowError(5, f"the browser ended at {visit.response.url}, not the callback")

    def _exchange(self, pending: Pending, code: str) -> Tokens:
        if self.printer.step == 5:  # the first time through; later ones stay in their step
            self.printer.begin(6)
        tokens = self.client.exchange(pending, code)
        self.printer.say(f"access token for scope {tokens.scope!r}; {audience_of(tokens)}")
        return tokens

    def tool(self, name: str, arguments: dict[str, Any], tokens: Tokens) -> httpx.Response:
        answer = self.client.tool(name, arguments, tokens.access_token)
        text = tool_text(answer)
        if text is not None:
            self.printer.say(f"{name} answered: {text!r}")
        return answer


def audience_of(tokens: Tokens) -> str:
    try:
        aud = unverified_claims(tokens.access_token).get("aud")
    except MalformedJwt:
        return "an opaque token"
    return f"its aud is {aud}"


def _walk(walk: Walk) -> None:
    client, printer = walk.client, walk.printer
    printer.begin(1)
    challenge = client.challenge(client.initialize(None))
    if challenge is None or challenge.status != 401 or not challenge.resource_metadata:
        raise McpFlowError(1, "the server did not answer 401 with resource_metadata")
    printer.say(f"401; resource_metadata={challenge.resource_metadata}, scope={challenge.scope!r}")
    printer.begin(2)
    prm = client.resource_metadata(challenge)
    issuer = str(prm["authorization_servers"][0])
    printer.say(f"resource = {prm['resource']} (this server); authorization server {issuer}")
    printer.begin(3)
    server = client.authorization_server(issuer)
    methods = server["code_challenge_methods_supported"]
    cimd = server.get("client_id_metadata_document_supported")
    printer.say(
        f"issuer matches; code_challenge_methods_supported={methods}; "
        f"client_id_metadata_document_supported={cimd}"
    )
    printer.begin(4)
    document = client.by_document(walk.run.home.document_url)
    printer.say(f"client_id = {document.client_id}: the sandbox fetches it at the first request")
    dcr = client.register(CLIENT_NAME + " (registered dynamically)")
    printer.say(f"registered dynamically as client_id {dcr.client_id} (used in step 10)")
    printer.begin(5)
    scope = challenge.scope or " ".join(prm.get("scopes_supported", [])[:1])
    tokens = walk.authorize(document, scope)
    printer.begin(7)
    if tool_text(walk.tool("list_photos", {}, tokens)) is None:
        raise McpFlowError(7, "list_photos was not answered")
    tokens = _step_up(walk, document, tokens)
    printer.begin(9)
    tokens = client.refresh(document.client_id, tokens)
    printer.say(f"new access token for scope {tokens.scope!r}; {audience_of(tokens)}")
    if tool_text(walk.tool("list_photos", {}, tokens)) is None:
        raise McpFlowError(9, "list_photos with the refreshed token was not answered")
    printer.begin(10)
    other = walk.authorize(dcr, scope)
    if tool_text(walk.tool("list_photos", {}, other)) is None:
        raise McpFlowError(10, "list_photos for the dynamically registered client failed")


def _step_up(walk: Walk, registration: Registration, tokens: Tokens) -> Tokens:
    walk.printer.begin(8)
    refused = walk.tool("print_photo", {"photo_id": "p1"}, tokens)
    challenge = walk.client.challenge(refused)
    if challenge is None or challenge.status != 403 or challenge.error != "insufficient_scope":
        raise McpFlowError(8, f"print_photo answered {refused.status_code}, not 403 step-up")
    walk.printer.say(f"403 insufficient_scope; the challenge asks for scope {challenge.scope!r}")
    wider = " ".join(dict.fromkeys([*tokens.scope.split(), *challenge.scope.split()]))
    url, pending = walk.client.authorization_url(registration, wider)
    walk._sign_in(url)
    answer = walk.run.home.answer()
    code = walk.client.code(answer, pending)
    tokens = walk.client.exchange(pending, code)
    walk.printer.say(f"access token for scope {tokens.scope!r}; {audience_of(tokens)}")
    if tool_text(walk.tool("print_photo", {"photo_id": "p1"}, tokens)) is None:
        raise McpFlowError(8, "print_photo was refused after the step-up")
    return tokens


# the messages the sandbox records as flow events with the checks it applied, by the tap
# that recorded them, their method and path
CHECKED = {
    ("browser", "GET", "/authorize"): "authorization_request",
    ("browser", "POST", "/login"): "login",
    ("client-out", "POST", "/token"): "token_request",
    ("client-out", "POST", "/register"): "client_registration",
}


def checks_by_step(sandbox: Sandbox) -> dict[str, list[FlowEvent]]:
    """The sandbox's own record of its checks (read over its admin API), oldest first."""
    events = [e for f in sandbox.flows(limit=100) for e in sandbox.flow_events(f["id"])]
    queues: dict[str, list[FlowEvent]] = {}
    for event in sorted(events, key=lambda e: e.at):
        queues.setdefault(event.step, []).append(event)
    return queues


def arrows(
    messages: list[Message], steps: dict[int, int], checks: dict[str, list[FlowEvent]]
) -> list[Arrow]:
    """The recorded messages as the inspector's arrows, with what each carried and, for
    the requests the sandbox judged, its checks (matched in order: the walkthrough sends
    one request at a time)."""
    drawn = []
    for message in messages:
        if message.sender not in NAMES or message.receiver not in NAMES:
            continue
        if _seen_by_browser_tap(message):
            continue
        step = CHECKED.get((message.tap, message.method, message.path))
        queue_ = checks.get(step or "", [])
        marks = records.check_marks(queue_.pop(0)) if queue_ else ()
        status = f" → {message.status}" if message.status else ""
        drawn.append(
            Arrow(
                step=steps.get(message.seq, 0),
                sender=message.sender,
                receiver=message.receiver,
                label=f"{message.method} {message.path}{status}",
                detail=describe(message),
                channel="front" if BROWSER in (message.sender, message.receiver) else "back",
                failed=any(not mark.passed for mark in marks),
                checks=marks,
            )
        )
    return drawn


def _diagram(run: Running, steps: dict[int, int], note: str, out: Path) -> Path:
    svg = render_svg(
        arrows(list(run.traffic.messages), steps, checks_by_step(run.sandbox)),
        "MCP authorization, as the walkthrough recorded it",
        note,
        participants=MCP_PARTICIPANTS,
    )
    out.mkdir(parents=True, exist_ok=True)
    path = out / f"mcp-flow-{time.strftime('%Y%m%d-%H%M%S')}-{secrets.token_hex(3)}.svg"
    path.write_text(svg)
    return path


def _short(proven: bool, resource: str) -> str:
    if not proven:
        return "Token confinement FAILED: see the walkthrough's last line."
    return (
        f"Every access token named {resource} as its audience and went only to the MCP "
        "server; none was in the MCP server's own requests (no passthrough)."
    )


def run_mcp_demo(out: Path, console: Console, serve: bool = False) -> DemoResult:
    with (
        tempfile.TemporaryDirectory(prefix="valetkey-demo-mcp-") as tmp,
        running(Path(tmp)) as run,
    ):
        _participants(run, console)
        printer = Printer(console)
        run.traffic.listeners.append(printer)
        http = httpx.Client(
            timeout=10.0, event_hooks=run.traffic.httpx_hooks(MCP_CLIENT, "client-out")
        )
        browser = UserAgent(USER, run.password, hooks=run.traffic.httpx_hooks(BROWSER, "browser"))
        walk = Walk(run, McpClient(run.mcp_url, http, run.home.redirect_uri), browser, printer)
        failed: McpFlowError | None = None
        try:
            _walk(walk)
        except McpFlowError as exc:
            failed = exc
        except httpx.HTTPError as exc:
            failed = McpFlowError(printer.step, f"HTTP error: {exc}")
        finally:
            browser.close()
            http.close()
        messages = list(run.traffic.messages)
        ok_conf, line = token_confinement(messages, run.mcp_url)
        diagram = _diagram(run, printer.steps, _short(ok_conf, run.mcp_url), out)
        _summary(console, failed, ok_conf, line, diagram)
        if serve and failed is None:
            _serve_forever(run, console)
        return DemoResult.ended(failed, ok_conf, line, diagram, messages)


def _participants(run: Running, console: Console) -> None:
    console.print("[bold]valetkey demo --mcp[/bold]: MCP authorization, step by step\n")
    console.print("Participants")
    console.print(f"  user                  {USER}, in a scripted browser")
    console.print(
        f"  MCP client            step by step (valetkey.mcp.client), home {run.home.url}"
    )
    console.print(f"  MCP server            valetkey's reference server at {run.mcp_url}")
    console.print(f"  authorization server  valetkey sandbox at {run.sandbox.issuer}")
    console.print(
        f"  photos API            {run.sandbox.issuer}/api/photos, which the MCP server "
        "reads with its own client-credentials token (acting for no user, so it lists none)"
    )


def _summary(
    console: Console, failed: McpFlowError | None, ok_conf: bool, line: str, diagram: Path
) -> None:
    failure = f"The walkthrough failed at step {failed.step}: {failed}" if failed else None
    print_summary(console, failure, diagram, "Token confinement", ok_conf, line)


def _serve_forever(run: Running, console: Console) -> None:
    serve_until_interrupted(
        run.sandbox,
        console,
        f"\nThe sandbox and the MCP server keep running. Point an MCP client at "
        f"{run.mcp_url}; sign in as {USER} (password {run.password}). Press Ctrl-C to stop.",
    )

"""`valetkey probe`: attack a running authorization server (`probe server`, the AS checks) or
client app (`probe client`, the LC checks) and report what got through."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:
    from valetkey.probe.report import Run

FORMAT = click.option(
    "--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True
)
VERBOSE = click.option(
    "--verbose", "-v", is_flag=True, help="Show how long each check took (JSON always does)."
)
SANDBOX_TOKEN = click.option(
    "--sandbox-token",
    envvar="VALETKEY_ADMIN_TOKEN",
    default="",
    help="The sandbox's admin token (printed at start); the /probe API needs it. "
    "[env: VALETKEY_ADMIN_TOKEN]",
)


def _report(run: Run, fmt: str, verbose: bool) -> None:
    """Print the run's report; exit 1 when a check failed."""
    from valetkey.probe.report import to_json, to_text

    click.echo(to_json(run) if fmt == "json" else to_text(run, verbose), nl=False)
    if any(r.status == "fail" for r in run.results):
        sys.exit(1)


@click.group()
def probe() -> None:
    """Black-box checks of a running authorization server (probe server: AS checks), client
    app (probe client: LC checks) or protected MCP server (probe mcp-server: MS checks)."""


@probe.command("server")
@click.argument("issuer")
@click.option("--client-id", required=True, help="A registered client to probe with.")
@click.option("--client-secret", default=None, help="Its secret (confidential client).")
@click.option("--redirect-uri", required=True, help="A redirect URI registered for it.")
@click.option(
    "--public-client-id",
    default=None,
    help="A second, public client with the same redirect URI (AS-06, AS-19).",
)
@click.option("--username", default=None, help="A test user, for the checks that log in.")
@click.option("--password", default=None, help="Its password.")
@click.option("--scope", default="openid", show_default=True)
@FORMAT
@VERBOSE
@click.option("--only", default=None, metavar="IDS", help="Comma-separated ids, e.g. AS-08,AS-15.")
def server(
    issuer: str,
    client_id: str,
    client_secret: str | None,
    redirect_uri: str,
    public_client_id: str | None,
    username: str | None,
    password: str | None,
    scope: str,
    fmt: str,
    verbose: bool,
    only: str | None,
) -> None:
    """Probe the authorization server at ISSUER.

    Reads its discovery document, then runs every AS check the given material allows,
    driving the HTML login and consent forms like a browser. Each check is pass, fail (with
    the request and the answer that prove it) or n/a (with why). Bursts (AS-17) go only to
    loopback targets. Exits 1 when a check fails.

    \b
    Example, against the sandbox's demo client:
      valetkey probe server http://127.0.0.1:8400 --client-id photo-printer \\
        --client-secret SECRET --redirect-uri http://127.0.0.1:8500/callback \\
        --username alice --password PASSWORD
    """
    from valetkey.probe.server import run_server_probe
    from valetkey.probe.session import Target

    target = Target(
        issuer.rstrip("/"),
        client_id,
        redirect_uri,
        client_secret,
        public_client_id,
        username,
        password,
        scope,
    )
    ids = only.split(",") if only else None

    def progress(check_id: str) -> None:
        if sys.stderr.isatty():
            click.echo(f"\r{check_id} ...", nl=False, err=True)

    results = run_server_probe(target, ids, progress)
    if sys.stderr.isatty():
        click.echo("\r" + " " * 20 + "\r", nl=False, err=True)
    _report(results, fmt, verbose)


@probe.command("client")
@click.argument("login_url")
@click.option(
    "--sandbox",
    "sandbox",
    required=True,
    metavar="ISSUER",
    help="The sandbox the app uses, started with `valetkey serve --probe-mode`.",
)
@click.option("--username", required=True, help="A sandbox user to sign in as.")
@click.option("--password", required=True)
@click.option(
    "--attacker-username",
    default="bob",
    show_default=True,
    help="A second sandbox user, the attacker, for LC-04 and LC-15.",
)
@click.option("--attacker-password", default="", help="Its password (without it: n/a).")
@click.option(
    "--expected-scope",
    default="openid profile email photos.read",
    show_default=True,
    help="Scopes the app may ask for (LC-10).",
)
@FORMAT
@VERBOSE
@SANDBOX_TOKEN
@click.option(
    "--signed-in-url",
    default=None,
    metavar="URL",
    help="A page of the app that shows whether the browser is signed in (found if left out).",
)
@click.option(
    "--signed-in-text",
    default=None,
    metavar="TEXT",
    help="Text that page shows only when signed in [default: the username].",
)
@click.option("--only", default=None, metavar="IDS", help="Comma-separated ids, e.g. LC-02,LC-14.")
def client(
    login_url: str,
    sandbox: str,
    username: str,
    password: str,
    attacker_username: str,
    attacker_password: str,
    expected_scope: str,
    sandbox_token: str,
    signed_in_url: str | None,
    signed_in_text: str | None,
    fmt: str,
    verbose: bool,
    only: str | None,
) -> None:
    """Probe the client app whose sign-in starts at LOGIN_URL.

    The app must use the sandbox as its provider, and the sandbox must run with
    --probe-mode: the probe then sees every back-channel call the app makes and makes the
    sandbox forge the next response (bad ID tokens, a missing iss ...). A check fails when
    the app redeems a code or acts signed in after a response it had to refuse.

    "Signed in" is learned from one normal sign-in: a page that differs between a signed-in
    and a fresh browser, a cookie set at the callback, or API calls with the token. Where
    nothing differs, the checks that need it are n/a; name the page with --signed-in-url.

    \b
    Example:
      valetkey serve --probe-mode --port 8400 &
      valetkey client &      # configured for the sandbox
      valetkey probe client http://127.0.0.1:8500/login --sandbox http://127.0.0.1:8400 \\
        --username alice --password PW --attacker-password BOBS_PW --sandbox-token TOKEN
    """
    from valetkey.probe.client import run_client_probe
    from valetkey.probe.client_session import ClientTarget

    target = ClientTarget(
        login_url,
        sandbox.rstrip("/"),
        username,
        password,
        attacker_username,
        attacker_password,
        frozenset(expected_scope.split()),
        sandbox_token,
        signed_in_url,
        signed_in_text,
    )
    from valetkey.probe.client_session import ClientProbeError

    try:
        results = run_client_probe(target, only.split(",") if only else None)
    except ClientProbeError as exc:
        raise click.ClickException(str(exc)) from None
    _report(results, fmt, verbose)


@probe.command("mcp-server")
@click.argument("url")
@click.option(
    "--sandbox",
    "sandbox",
    required=True,
    metavar="ISSUER",
    help="The sandbox the server trusts, started with `valetkey serve --probe-mode`.",
)
@SANDBOX_TOKEN
@FORMAT
@VERBOSE
@click.option("--only", default=None, metavar="IDS", help="Comma-separated ids, e.g. MS-03,MS-06.")
def mcp_server(
    url: str, sandbox: str, sandbox_token: str, fmt: str, verbose: bool, only: str | None
) -> None:
    """Probe the protected MCP server whose streamable-HTTP endpoint is URL.

    The server must trust the sandbox as its authorization server, and the sandbox must run
    with --probe-mode: it mints the crafted tokens (any audience, issuer, key, algorithm,
    lifetime, scope) and shows which calls reached its API. A check fails when the server
    answers an MCP request it had to refuse. Exits 1 when a check fails.

    \b
    Example:
      valetkey serve --probe-mode &
      valetkey mcp serve &
      valetkey probe mcp-server http://127.0.0.1:8790/mcp --sandbox http://127.0.0.1:8400 \\
        --sandbox-token TOKEN
    """
    from valetkey.probe.mcp_server import run_mcp_server_probe
    from valetkey.probe.mcp_session import McpProbeError, McpTarget

    target = McpTarget(url, sandbox.rstrip("/"), sandbox_token)
    try:
        results = run_mcp_server_probe(target, only.split(",") if only else None)
    except McpProbeError as exc:
        raise click.ClickException(str(exc)) from None
    _report(results, fmt, verbose)

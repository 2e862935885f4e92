"""`valetkey probe`: attack a running authorization server (`probe server`, the AS checks) or
client app (`probe client`, the LC checks) and report what got through."""

from __future__ import annotations

import sys

import click


@click.group()
def probe() -> None:
    """Black-box checks of a running authorization server (probe server: AS checks) or client
    app (probe client: LC checks)."""


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
@click.option(
    "--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True
)
@click.option(
    "--verbose", "-v", is_flag=True, help="Show how long each check took (JSON always does)."
)
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
    from valetkey.probe.report import to_json, to_text
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
    click.echo(to_json(results) if fmt == "json" else to_text(results, verbose), nl=False)
    if any(r.status == "fail" for r in results.results):
        sys.exit(1)


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
@click.option(
    "--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True
)
@click.option(
    "--verbose", "-v", is_flag=True, help="Show how long each check took (JSON always does)."
)
@click.option(
    "--sandbox-token",
    envvar="VALETKEY_ADMIN_TOKEN",
    default="",
    help="The sandbox's admin token (printed at start); the /probe API needs it. "
    "[env: VALETKEY_ADMIN_TOKEN]",
)
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
    from valetkey.probe.report import to_json, to_text

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
    click.echo(to_json(results) if fmt == "json" else to_text(results, verbose), nl=False)
    if any(r.status == "fail" for r in results.results):
        sys.exit(1)

"""`valetkey demo`: the whole flow, from the app's button to the photos, explained."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click


@click.command()
@click.option(
    "--client",
    "variant",
    type=click.Choice(["steps", "authlib"]),
    default="steps",
    show_default=True,
    help="Which photo-printer app: step by step, or with Authlib.",
)
@click.option(
    "--serve",
    is_flag=True,
    help="Keep the sandbox and the app running afterwards, to try in a browser.",
)
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path(".valetkey/demo"),
    show_default=True,
    help="Where to write the sequence diagram (SVG).",
)
@click.option(
    "--lab",
    "labs",
    multiple=True,
    type=click.Choice(["ask-password"]),
    help="Break the app on purpose (ask-password: it asks for the password itself).",
)
@click.option(
    "--mcp",
    is_flag=True,
    help="Walk through MCP authorization instead: an MCP client, the reference MCP server "
    "and the sandbox (needs the mcp extra).",
)
def demo(variant: str, serve: bool, out: Path, labs: tuple[str, ...], mcp: bool) -> None:
    """Walk through the authorization-code flow with the photo-printer app.

    Starts the sandbox provider and the photo-printer app on free loopback ports, then a
    scripted browser signs in as alice. Every message is printed as it happens (secrets
    masked), grouped in the flow's five steps; the last line proves, from the recorded
    traffic, that the password went only to the authorization server.

    With --mcp: the sandbox, the reference MCP server and a step-by-step MCP client. Ten
    steps: the 401 and its challenge, the two metadata documents, registration (a client ID
    metadata document, then RFC 7591), PKCE with resource, the token, tools/call, step-up,
    refresh, and the dynamically registered client. The last line proves, from the recorded
    traffic, that every access token named the MCP server as its audience and that no token
    reached any other API.

    Exits 0 when the walkthrough succeeded, 1 with the failing step otherwise.
    """
    from rich.console import Console

    if mcp:
        _mcp_demo(variant, serve, out, labs, Console(highlight=False))
        return

    from valetkey.client.config import ClientLab
    from valetkey.client.walkthrough import run_demo

    lab = frozenset(ClientLab(name) for name in labs)
    result = run_demo(variant, out, Console(highlight=False), lab=lab, serve=serve)
    if not result.ok:
        step = f"step {result.failed_step}" if result.failed_step else "password confinement"
        raise click.ClickException(
            f"the walkthrough failed ({step}): {result.reason or result.confinement}"
        )


def _mcp_demo(variant: str, serve: bool, out: Path, labs: tuple[str, ...], console: Any) -> None:
    if labs or variant != "steps":
        raise click.UsageError("--mcp has its own MCP client: it takes neither --client nor --lab")
    try:
        from valetkey.mcp.walkthrough import run_mcp_demo
    except ImportError as exc:
        raise click.ClickException(
            f"the MCP walkthrough needs the mcp extra ({exc.name} is missing): "
            "pip install 'valetkey[mcp]'"
        ) from None
    result = run_mcp_demo(out, console, serve=serve)
    if not result.ok:
        step = f"step {result.failed_step}" if result.failed_step else "token confinement"
        raise click.ClickException(
            f"the MCP walkthrough failed ({step}): {result.reason or result.confinement}"
        )

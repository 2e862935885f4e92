"""`valetkey demo`: the whole flow, from the app's button to the photos, explained."""

from __future__ import annotations

from pathlib import Path

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
def demo(variant: str, serve: bool, out: Path, labs: tuple[str, ...]) -> None:
    """Walk through the authorization-code flow with the photo-printer app.

    Starts the sandbox provider and the photo-printer app on free loopback ports, then a
    scripted browser signs in as alice. Every message is printed as it happens (secrets
    masked), grouped in the flow's five steps; the last line proves, from the recorded
    traffic, that the password went only to the authorization server.

    Exits 0 when the walkthrough succeeded, 1 with the failing step otherwise.
    """
    from rich.console import Console

    from valetkey.client.config import ClientLab
    from valetkey.client.walkthrough import run_demo

    lab = frozenset(ClientLab(name) for name in labs)
    result = run_demo(variant, out, Console(highlight=False), lab=lab, serve=serve)
    if not result.ok:
        step = f"step {result.failed_step}" if result.failed_step else "password confinement"
        raise click.ClickException(
            f"the walkthrough failed ({step}): {result.reason or result.confinement}"
        )

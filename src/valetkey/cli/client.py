"""`valetkey client`: run the photo-printer reference app against a provider."""

from __future__ import annotations

import time
from pathlib import Path

import click


@click.command()
@click.option(
    "--variant",
    type=click.Choice(["steps", "authlib"]),
    default="steps",
    show_default=True,
    help="Step-by-step code, or Authlib's Flask client.",
)
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", type=int, default=8500, show_default=True)
@click.option(
    "--env-file",
    type=click.Path(dir_okay=False, path_type=Path),
    default=Path(".env"),
    show_default=True,
    help="PHOTO_PRINTER_* settings, e.g. the client secret (never put it in code).",
)
@click.option(
    "--lab",
    "labs",
    multiple=True,
    type=click.Choice(["no-state-check"]),
    help="Run a deliberately broken copy (it says so on every page).",
)
def client(variant: str, host: str, port: int, env_file: Path, labs: tuple[str, ...]) -> None:
    """Run the photo-printer app, configured from the environment or a .env file.

    \b
    Settings (environment or .env):
      PHOTO_PRINTER_PROVIDER       sandbox | oidc | github          [sandbox]
      PHOTO_PRINTER_DISCOVERY_URL  the provider's discovery URL (sandbox, oidc)
      PHOTO_PRINTER_CLIENT_ID      the registered client id
      PHOTO_PRINTER_CLIENT_SECRET  the client secret
      PHOTO_PRINTER_REDIRECT_URI   exactly as registered, e.g. http://127.0.0.1:8500/callback
      PHOTO_PRINTER_SCOPE          [openid profile photos.read]
      PHOTO_PRINTER_GITHUB_URL, PHOTO_PRINTER_GITHUB_API_URL   for a GitHub-shaped provider

    \b
    Example, against `valetkey serve` and its demo client:
      PHOTO_PRINTER_DISCOVERY_URL=http://127.0.0.1:8400/.well-known/openid-configuration \\
      PHOTO_PRINTER_CLIENT_ID=photo-printer PHOTO_PRINTER_CLIENT_SECRET=... \\
      PHOTO_PRINTER_REDIRECT_URI=http://127.0.0.1:8500/callback valetkey client
    """
    from valetkey.client import apps
    from valetkey.client.config import ConfigError, load_config
    from valetkey.client.server import BackgroundServer, free_socket

    overrides = {"lab": " ".join(labs)} if labs else {}
    try:
        config = load_config(env_file=env_file, overrides=overrides)
    except ConfigError as exc:
        raise click.UsageError(str(exc)) from None
    if labs and variant == "authlib":
        raise click.UsageError("the lab copies are step-by-step apps; use --variant steps")
    try:
        sock = free_socket(host, port)
    except OSError as exc:
        raise click.ClickException(f"cannot listen on {host}:{port}: {exc.strerror}") from None
    server = BackgroundServer(apps.create_app(variant, config), sock).start()
    for lab in sorted(config.lab, key=lambda item: item.value):
        click.echo(f"WARNING lab switch {lab.value} is on", err=True)
    click.echo(f"Photo Printer ({variant}) at {server.url}/  (Ctrl-C to stop)")
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        server.stop()

"""`valetkey clients`: register, list and remove OAuth clients, straight in the database."""

from __future__ import annotations

import secrets
import time

import click
from rich.console import Console
from rich.table import Table

from valetkey.cli.common import database_options, load_settings, store_for
from valetkey.oauth.redirect_uris import RedirectUriError, normalize_redirect_uri
from valetkey.provider.store.queries import DuplicateError
from valetkey.provider.store.records import Client
from valetkey.provider.tokens import digest

GRANTS = ("authorization_code", "refresh_token", "client_credentials")
DEFAULT_SCOPE = "openid profile email photos.read offline_access"


def _check_uris(uris: tuple[str, ...], option: str) -> tuple[str, ...]:
    """The URIs as registered (hosts in punycode), or a usage error naming the bad one."""
    normalized = []
    for uri in uris:
        try:
            normalized.append(normalize_redirect_uri(uri))
        except RedirectUriError as exc:
            raise click.BadParameter(f"{uri!r} {exc}", param_hint=option) from None
    return tuple(normalized)


@click.group()
def clients() -> None:
    """Register, list and remove OAuth clients (works on the database; no server needed)."""


@clients.command("add")
@click.argument("client_id")
@click.option(
    "--secret", default=None, help="The client secret; generated and printed if left out."
)
@click.option("--public", is_flag=True, help="A public client (no secret; PKCE is required).")
@click.option(
    "--redirect-uri",
    "redirect_uris",
    multiple=True,
    metavar="URI",
    help="An exact redirect URI (https, or http to a loopback address). Repeatable.",
)
@click.option(
    "--post-logout-redirect-uri",
    "logout_uris",
    multiple=True,
    metavar="URI",
    help="Where RP-initiated logout may send the browser back. Repeatable.",
)
@click.option(
    "--scope",
    default=DEFAULT_SCOPE,
    show_default=True,
    help="Space-separated scopes the client may ask for.",
)
@click.option(
    "--grant",
    "grants",
    multiple=True,
    type=click.Choice(GRANTS),
    help="An allowed grant type. Repeatable. [default: authorization_code, refresh_token]",
)
@click.option("--name", default=None, help="Name shown on the consent page [default: CLIENT_ID].")
@click.option(
    "--id-token-alg",
    type=click.Choice(["RS256", "ES256"]),
    default="RS256",
    show_default=True,
    help="Signing algorithm of this client's ID tokens.",
)
@database_options
def add(
    client_id: str,
    secret: str | None,
    public: bool,
    redirect_uris: tuple[str, ...],
    logout_uris: tuple[str, ...],
    scope: str,
    grants: tuple[str, ...],
    name: str | None,
    id_token_alg: str,
    db: str | None,
    data_dir: str | None,
) -> None:
    """Register CLIENT_ID.

    \b
    Examples:
      valetkey clients add photo-app --redirect-uri http://127.0.0.1:5000/callback
      valetkey clients add spa --public --redirect-uri http://localhost:3000/cb
      valetkey clients add batch --grant client_credentials --scope photos.read
    """
    if public and secret is not None:
        raise click.UsageError("--public and --secret exclude each other")
    chosen = frozenset(grants or ("authorization_code", "refresh_token"))
    if "authorization_code" in chosen and not redirect_uris:
        raise click.UsageError("the authorization_code grant needs at least one --redirect-uri")
    if public and "client_credentials" in chosen:
        raise click.UsageError("a public client cannot use client_credentials (RFC 6749 §4.4)")
    if secret == "":
        raise click.UsageError("--secret must not be empty; use --public for a public client")
    if "/" in client_id:
        raise click.UsageError("CLIENT_ID must not contain '/' (it is part of admin URLs)")
    redirect_uris = _check_uris(redirect_uris, "--redirect-uri")
    logout_uris = _check_uris(logout_uris, "--post-logout-redirect-uri")
    generated = secret is None and not public
    if generated:
        secret = secrets.token_urlsafe(32)
    client = Client(
        client_id,
        None if public else digest(secret or ""),
        name or client_id,
        redirect_uris,
        logout_uris,
        frozenset(scope.split()),
        chosen,
        id_token_alg,
    )
    store = store_for(load_settings(db=db, data_dir=data_dir))
    try:
        store.add_client(client, time.time())
    except DuplicateError as exc:
        raise click.ClickException(f"{exc}; remove it first or pick another id") from None
    click.echo(f"added {'public' if public else 'confidential'} client {client_id}")
    if generated:
        click.echo(f"client secret (shown once, store it safely): {secret}")


@clients.command("list")
@database_options
def list_clients(db: str | None, data_dir: str | None) -> None:
    """List registered clients."""
    store = store_for(load_settings(db=db, data_dir=data_dir))
    table = Table("client_id", "type", "redirect URIs", "scopes", "grants")
    for c in store.clients():
        table.add_row(
            c.client_id,
            "public" if c.is_public else "confidential",
            "\n".join(c.redirect_uris),
            " ".join(sorted(c.scopes)),
            " ".join(sorted(c.grant_types)),
        )
    Console().print(table)


@clients.command("remove")
@click.argument("client_id")
@database_options
def remove(client_id: str, db: str | None, data_dir: str | None) -> None:
    """Remove CLIENT_ID; its grants and tokens are revoked first."""
    store = store_for(load_settings(db=db, data_dir=data_dir))
    if not store.remove_client(client_id, time.time()):
        raise click.ClickException(f"no client with id {client_id!r}; see `valetkey clients list`")
    click.echo(f"removed client {client_id}; its tokens no longer work")

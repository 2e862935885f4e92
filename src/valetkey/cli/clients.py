"""`valetkey clients`: register, list and remove OAuth clients, straight in the database."""

from __future__ import annotations

import time

import click
from rich.console import Console
from rich.table import Table

from valetkey.cli.common import database_options, load_settings, store_for
from valetkey.oauth.client_metadata import (
    DEFAULT_SCOPE,
    GRANT_TYPES,
    ID_TOKEN_ALGS,
    RESPONSE_TYPES,
    TOKEN_ENDPOINT_AUTH_METHODS,
    ClientMetadataError,
    FieldNames,
    client_metadata,
    client_secret,
)
from valetkey.provider.registration import client_record
from valetkey.provider.store.queries import DuplicateError
from valetkey.provider.store.records import Client

# what the command's options are called, for the registration rules' messages
OPTION_NAMES = FieldNames(
    client_id="CLIENT_ID",
    name="--name",
    secret="--secret",  # noqa: S106 (an option's name)
    public="--public",
    redirect_uri="--redirect-uri",
    post_logout_redirect_uri="--post-logout-redirect-uri",
    scope="--scope",
    grant="--grant",
    auth_method="--auth-method",
    response_type="--response-type",
    id_token_alg="--id-token-alg",  # noqa: S106 (an option's name)
)


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
    type=click.Choice(GRANT_TYPES),
    help="An allowed grant type. Repeatable. [default: authorization_code, refresh_token, "
    "or what the response types need]",
)
@click.option(
    "--auth-method",
    type=click.Choice(TOKEN_ENDPOINT_AUTH_METHODS),
    default=None,
    help="How the client authenticates at the token endpoint (RFC 7591 §2); any other way "
    "is refused. [default: client_secret_basic, none for --public]",
)
@click.option(
    "--response-type",
    "response_types",
    multiple=True,
    type=click.Choice(RESPONSE_TYPES),
    help="A response type the client may ask for at /authorize. Repeatable. [default: code "
    "for the authorization_code grant]",
)
@click.option("--name", default=None, help="Name shown on the consent page [default: CLIENT_ID].")
@click.option(
    "--id-token-alg",
    type=click.Choice(ID_TOKEN_ALGS),
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
    auth_method: str | None,
    response_types: tuple[str, ...],
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
      valetkey clients add poster --auth-method client_secret_post \\
          --redirect-uri https://app.example/cb
    """
    try:
        metadata = client_metadata(
            client_id=client_id,
            name=name,
            public=public,
            redirect_uris=redirect_uris,
            post_logout_redirect_uris=logout_uris,
            scope=scope,
            grant_types=grants or None,
            token_endpoint_auth_method=auth_method,
            response_types=response_types or None,
            id_token_signed_response_alg=id_token_alg,
            names=OPTION_NAMES,
        )
        chosen = client_secret(secret, public, OPTION_NAMES)
    except ClientMetadataError as exc:
        raise click.UsageError(exc.description) from None
    client = client_record(metadata, chosen)
    store = store_for(load_settings(db=db, data_dir=data_dir))
    try:
        store.add_client(client, time.time())
    except DuplicateError as exc:
        raise click.ClickException(f"{exc}; remove it first or pick another id") from None
    click.echo(
        f"added {'public' if public else 'confidential'} client {client_id} "
        f"({client.token_endpoint_auth_method}; response types: {_types(client)})"
    )
    if secret is None and chosen is not None:
        click.echo(f"client secret (shown once, store it safely): {chosen}")


REGISTERED_BY = {"admin": "admin", "dynamic": "itself (dynamic)", "cimd": "itself (cimd)"}


def _types(client: Client) -> str:
    return ", ".join(sorted(client.response_types)) or "none"


@clients.command("list")
@database_options
def list_clients(db: str | None, data_dir: str | None) -> None:
    """List registered clients."""
    store = store_for(load_settings(db=db, data_dir=data_dir))
    table = Table(
        "client_id",
        "type",
        "registered by",
        "auth method",
        "redirect URIs",
        "scopes",
        "grants",
        "response types",
    )
    for c in store.clients():
        table.add_row(
            c.client_id,
            "public" if c.is_public else "confidential",
            REGISTERED_BY[c.origin],
            c.token_endpoint_auth_method,
            "\n".join(c.redirect_uris),
            " ".join(sorted(c.scopes)),
            " ".join(sorted(c.grant_types)),
            "\n".join(sorted(c.response_types)),
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

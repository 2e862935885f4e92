"""`valetkey resources`: register, list and remove protected resources (RFC 8707), which a
client names with the `resource` parameter and access tokens carry as `aud`."""

from __future__ import annotations

import time

import click
from rich.console import Console
from rich.table import Table

from valetkey.cli.common import database_options, load_settings, store_for
from valetkey.oauth.resource_uri import ResourceUriError, canonical_resource
from valetkey.provider.resources import ResourceError, resource_record, server_client
from valetkey.provider.store.queries import DuplicateError

OPTION_NAMES = ("URI", "--scope", "--name")


@click.group()
def resources() -> None:
    """Register, list and remove protected resources (works on the database; no server
    needed)."""


@resources.command("add")
@click.argument("uri")
@click.option(
    "--scope",
    "scopes",
    multiple=True,
    metavar="SCOPE",
    help="A scope the resource serves (space-separated names, or repeat it). Required.",
)
@click.option("--name", default=None, help="Name to show for it [default: URI].")
@click.option(
    "--client",
    "client_id",
    default=None,
    metavar="CLIENT_ID",
    help="The resource server's own confidential client: it may introspect the access "
    "tokens issued for URI (RFC 7662).",
)
@database_options
def add(
    uri: str,
    scopes: tuple[str, ...],
    name: str | None,
    client_id: str | None,
    db: str | None,
    data_dir: str | None,
) -> None:
    """Register URI: an absolute https URL (or http to loopback), no fragment, no query.

    \b
    Examples:
      valetkey resources add http://127.0.0.1:8790/mcp --scope photos.read --scope photos.print
      valetkey resources add https://api.example/v1 --scope 'orders.read orders.write' \\
          --name 'Orders API' --client orders-api
    """
    store = store_for(load_settings(db=db, data_dir=data_dir))
    try:
        client = None
        if client_id is not None:
            client = server_client(store.client(client_id), client_id, "--client")
        resource = resource_record(uri, scopes, name, fields=OPTION_NAMES, client=client)
    except ResourceError as exc:
        raise click.UsageError(str(exc)) from None
    try:
        store.add_resource(resource, time.time())
    except DuplicateError as exc:
        raise click.ClickException(f"{exc}; remove it first") from None
    click.echo(f"added resource {resource.uri} (scopes: {' '.join(sorted(resource.scopes))})")


@resources.command("list")
@database_options
def list_resources(db: str | None, data_dir: str | None) -> None:
    """List registered resources."""
    store = store_for(load_settings(db=db, data_dir=data_dir))
    found = store.resources()
    with_clients = any(r.client_id for r in found)  # the column only when it says something
    table = Table()
    table.add_column("resource URI", no_wrap=True)  # whole: it is what clients must send
    for title in ("name", "scopes", *(("server's client",) if with_clients else ())):
        table.add_column(title)
    for resource in found:
        scopes = " ".join(sorted(resource.scopes))
        client = (resource.client_id or "-",) if with_clients else ()
        table.add_row(resource.uri, resource.name, scopes, *client)
    Console().print(table)


@resources.command("remove")
@click.argument("uri")
@database_options
def remove(uri: str, db: str | None, data_dir: str | None) -> None:
    """Remove URI: no request can name it any more (tokens already issued keep working until
    they expire)."""
    try:
        canonical = canonical_resource(uri)
    except ResourceUriError as exc:
        raise click.UsageError(f"URI {exc}") from None
    store = store_for(load_settings(db=db, data_dir=data_dir))
    if not store.remove_resource(canonical):
        raise click.ClickException(f"no resource {canonical!r}; see `valetkey resources list`")
    click.echo(f"removed resource {canonical}")

"""`valetkey trace`: the recorded flows, from the database, without a running server."""

from __future__ import annotations

import time
from pathlib import Path

import click

from valetkey.cli.common import database_options, load_settings, store_for

FORMATS = ("text", "svg", "mermaid", "json")


@click.group()
def trace() -> None:
    """Show recorded flows as text, SVG or Mermaid sequence diagrams, or JSON."""


@trace.command("list")
@click.option("--limit", type=click.IntRange(1, 1000), default=20, show_default=True)
@database_options
def list_flows(limit: int, db: str | None, data_dir: str | None) -> None:
    """List recent flows, newest first."""
    from rich.console import Console
    from rich.table import Column, Table

    store = store_for(load_settings(db=db, data_dir=data_dir))
    table = Table("started", "client", "user", "outcome", "failed checks")
    table.columns.insert(0, Column("flow id", no_wrap=True, min_width=16))
    for flow in store.flows(limit):
        started = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(flow["started_at"]))
        table.add_row(
            flow["id"],
            started,
            flow["client_id"],
            flow["username"] or "-",
            flow["outcome"],
            str(flow["failed_checks"]),
        )
    Console().print(table)


@trace.command("show")
@click.argument("flow_id")
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="text", show_default=True)
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Write to this file instead of the terminal.",
)
@database_options
def show(flow_id: str, fmt: str, out: Path | None, db: str | None, data_dir: str | None) -> None:
    """Show one flow.

    \b
    Examples:
      valetkey trace show 3f2a9c0d11e4b7a8
      valetkey trace show 3f2a9c0d11e4b7a8 --format svg --out flow.svg
      valetkey trace show 3f2a9c0d11e4b7a8 --format mermaid
    """
    from valetkey.trace import records

    store = store_for(load_settings(db=db, data_dir=data_dir))
    flow = store.flow(flow_id)
    if flow is None:
        raise click.ClickException(f"no flow {flow_id!r}; see `valetkey trace list`")
    events = store.flow_events(flow_id)
    rendered = {
        "text": lambda: records.text(events),
        "svg": lambda: records.svg(events, f"Flow {flow_id}"),
        "mermaid": lambda: records.mermaid(events),
        "json": lambda: records.as_json(flow, events),
    }[fmt]()
    if out is None:
        click.echo(rendered, nl=False)
    else:
        out.write_text(rendered)
        click.echo(f"wrote {out}")

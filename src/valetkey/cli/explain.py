"""`valetkey explain ID`: what a check id means, from the check catalogue.

Any family (AS, LC, OA, MS), any case (`as-23`, `OA103`, `lc14`). An unknown id is a usage
error (exit 2) that names the closest ids. `--list [--family AS]` prints the index.
"""

from __future__ import annotations

import json

import click

from valetkey import catalogue
from valetkey.catalogue import render

FORMATS = ("text", "markdown", "json")


def detail_of(entry: catalogue.Entry) -> str:
    """What the family's implementation adds to the entry: for OA ids, the auditor's exact
    detection rules (its check's docstring), labelled as such."""
    if entry.family is not catalogue.Family.OA:
        return ""
    from valetkey.audit.checks import detection

    return detection(entry.id)


def rendered(entry: catalogue.Entry, fmt: str) -> str:
    if fmt == "json":
        return json.dumps(render.to_json(entry), indent=2, ensure_ascii=False) + "\n"
    if fmt == "markdown":
        return render.to_markdown(entry, heading="#")
    return render.to_text(entry, detail_of(entry))


def unknown_id(check_id: str) -> str:
    """The one-line error for an id the catalogue lacks, naming the closest ids."""
    near = catalogue.closest(check_id)
    hint = f"; closest: {', '.join(near)}" if near else ""
    return f"unknown check id {check_id!r}{hint} (see `valetkey explain --list`)"


def find(check_id: str) -> catalogue.Entry:
    """The entry; for an unknown id, one line on stderr and exit status 2 (a usage error)."""
    entry = catalogue.lookup(check_id)
    if entry is None:
        click.echo(f"Error: {unknown_id(check_id)}", err=True)
        raise click.exceptions.Exit(2)
    return entry


def listing(family: str | None) -> str:
    chosen = catalogue.Family[family.upper()] if family else None
    rows = [
        f"{e.id:<6} {e.severity.label:<6} {e.title}" + (" (planned)" if e.planned else "")
        for e in catalogue.entries(chosen)
    ]
    return "\n".join(rows) + "\n"


@click.command()
@click.argument("check_id", required=False, metavar="ID")
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="text", show_default=True)
@click.option("--list", "list_ids", is_flag=True, help="List the ids with their titles.")
@click.option(
    "--family",
    type=click.Choice([f.prefix for f in catalogue.Family], case_sensitive=False),
    help="List only this family (implies --list).",
)
def explain(check_id: str | None, fmt: str, list_ids: bool, family: str | None) -> None:
    """Explain a check id: its rule, the attack it stops, a bad and a good example.

    \b
    Examples:
      valetkey explain AS-23
      valetkey explain lc-14 --format markdown
      valetkey explain --list --family OA
    """
    if family and check_id:
        raise click.UsageError("--family goes with --list, not with an id")
    if list_ids or family:
        click.echo(listing(family), nl=False)
        return
    if check_id is None:
        raise click.UsageError("give a check id (e.g. AS-23), or --list")
    click.echo(rendered(find(check_id), fmt), nl=False)

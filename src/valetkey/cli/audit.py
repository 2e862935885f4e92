"""`valetkey audit`: find OAuth 2.0 / OpenID Connect pitfalls in Python source."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

import click

if TYPE_CHECKING:
    from rich.console import Console

    from valetkey.audit.model import ScanResult
    from valetkey.audit.registry import AuditConfig

EXIT_CLEAN, EXIT_FINDINGS, EXIT_ERROR = 0, 1, 2
PROGRESS_THRESHOLD = 50


def _split_ids(values: tuple[str, ...]) -> list[str]:
    return [part for value in values for part in value.split(",")]


@click.command(
    "audit",
    context_settings={"help_option_names": ["-h", "--help"]},
    epilog="""\b
Examples:
  valetkey audit src/                         text report, exit 1 on any finding
  valetkey audit app.py --format sarif -o valetkey.sarif
  valetkey audit . --fail-on high --ignore OA111
  valetkey audit --explain OA103              what OA103 means, with examples
  valetkey audit src/ --checklist             the lesson's checklist, per file

\b
Silence one line:   client_secret = "..."  # valetkey: ignore[OA105]
Configure:          [tool.valetkey] in pyproject.toml
                    allowed-scopes = ["openid", "email"]   exclude = ["tests/fixtures"]
Exit status: 0 clean, 1 findings at or above --fail-on, 2 usage or internal error.""",
)
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "json", "sarif"]),
    default="text",
    show_default=True,
    help="Report format.",
)
@click.option(
    "--output",
    "-o",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the report to FILE instead of standard output.",
)
@click.option(
    "--fail-on",
    type=click.Choice(["low", "medium", "high"]),
    default="low",
    show_default=True,
    help="Lowest severity that makes the exit status 1.",
)
@click.option(
    "--select",
    multiple=True,
    metavar="IDS",
    help="Only these checks (comma-separated ids or prefixes, e.g. OA103,OA11).",
)
@click.option("--ignore", multiple=True, metavar="IDS", help="Skip these checks.")
@click.option("--explain", metavar="ID", help="Print a check's documentation and exit.")
@click.option(
    "--checklist", is_flag=True, help="Print the six-item OAuth checklist as pass/fail per file."
)
@click.option(
    "--jobs",
    "-j",
    type=click.IntRange(min=1),
    default=None,
    help="Worker processes (default: all cores).",
)
@click.option("--no-progress", is_flag=True, help="Never show the progress bar.")
def audit(
    paths: tuple[Path, ...],
    fmt: str,
    output: Path | None,
    fail_on: str,
    select: tuple[str, ...],
    ignore: tuple[str, ...],
    explain: str | None,
    checklist: bool,
    jobs: int | None,
    no_progress: bool,
) -> None:
    """Audit Python files for the OAuth/OIDC pitfalls OA101-OA121.

    PATHS are files or folders (searched for *.py). Each finding names the check, the
    line, why it matters (with the RFC clause) and the fix.
    """
    try:
        code = _run(
            paths, fmt, output, fail_on, select, ignore, explain, checklist, jobs, no_progress
        )
    except click.exceptions.Exit:
        raise
    except _Usage as exc:
        click.echo(f"valetkey audit: {exc}", err=True)
        sys.exit(EXIT_ERROR)
    except Exception as exc:
        click.echo(f"valetkey audit: internal error: {type(exc).__name__}: {exc}", err=True)
        click.echo("Please report it with the file that triggers it.", err=True)
        sys.exit(EXIT_ERROR)
    sys.exit(code)


class _Usage(Exception):
    pass


def _run(
    paths: tuple[Path, ...],
    fmt: str,
    output: Path | None,
    fail_on: str,
    select: tuple[str, ...],
    ignore: tuple[str, ...],
    explain: str | None,
    checklist: bool,
    jobs: int | None,
    no_progress: bool,
) -> int:
    from valetkey.audit.engine import Selection, UsageError, scan, validate_ids

    try:
        if explain is not None:
            return _explain(explain, output)
        if not paths:
            raise _Usage("give at least one file or folder to audit, e.g. `valetkey audit src/`")
        selection = Selection(validate_ids(_split_ids(select)), validate_ids(_split_ids(ignore)))
        config = _config(paths)
        count = _count(paths, config)
        with _progress(count, no_progress) as tick:
            result = scan(list(paths), selection, config, jobs, tick)
    except UsageError as exc:
        raise _Usage(str(exc)) from exc
    _write(result, fmt, output, checklist)
    return _exit_code(result, fail_on)


def _config(paths: tuple[Path, ...]) -> AuditConfig:
    from valetkey.audit.config import find_pyproject, load_config

    return load_config(find_pyproject(Path.cwd()))


def _count(paths: tuple[Path, ...], config: AuditConfig) -> int:
    from valetkey.audit.engine import discover

    return len(discover(list(paths), config))


@contextmanager
def _progress(total: int, disabled: bool) -> Iterator[Callable[[int], None] | None]:
    if disabled or total <= PROGRESS_THRESHOLD or not sys.stderr.isatty():
        yield None
        return
    from rich.progress import Progress

    with Progress(transient=True, console=_console(sys.stderr)) as bar:
        task = bar.add_task("auditing", total=total)
        yield lambda n: bar.advance(task, n)


def _console(stream: TextIO, colour: bool | None = None) -> Console:
    from rich.console import Console

    return Console(
        file=stream,
        no_color=colour is False,
        highlight=False,
        force_terminal=None if colour is None else colour,
        soft_wrap=True,
    )


def _explain(check_id: str, output: Path | None) -> int:
    import valetkey.audit.checks  # noqa: F401 - registers the checks
    from valetkey.audit.registry import REGISTRY
    from valetkey.audit.report import explain

    check = REGISTRY.get(check_id.strip().upper())
    if check is None:
        raise _Usage(f"unknown check id {check_id!r}; ids run from OA101 to OA121")
    _emit(explain(check), output)
    return EXIT_CLEAN


def _write(result: ScanResult, fmt: str, output: Path | None, checklist: bool) -> None:
    from rich.console import Console

    from valetkey.audit.report import (
        checklist_json,
        dumps,
        render_checklist,
        render_text,
        to_json,
        to_sarif,
    )

    if fmt == "json":
        data = to_json(result)
        if checklist:
            data["checklist"] = checklist_json(result)
        _emit(dumps(data), output)
    elif fmt == "sarif":
        _emit(dumps(to_sarif(result)), output)
    else:
        stream: TextIO = open(output, "w", encoding="utf-8") if output else sys.stdout  # noqa: SIM115
        try:
            console = Console(
                file=stream,
                highlight=False,
                soft_wrap=True,
                no_color=output is not None or "NO_COLOR" in os.environ,
            )
            if checklist:
                render_checklist(result, console)
            else:
                render_text(result, console)
        finally:
            if output:
                stream.close()


def _emit(text: str, output: Path | None) -> None:
    if output is None:
        click.echo(text, nl=False)
        return
    try:
        output.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise _Usage(f"cannot write {output}: {exc.strerror}") from exc


def _exit_code(result: ScanResult, fail_on: str) -> int:
    """Findings at or above the threshold fail; a file that does not parse is reported in
    the output but is not a finding; an internal error of the auditor is exit status 2."""
    from valetkey.audit.model import Severity

    if any(e.internal for e in result.errors):
        return EXIT_ERROR
    threshold = Severity.parse(fail_on)
    failing = [f for f in result.findings if f.severity >= threshold]
    return EXIT_FINDINGS if failing else EXIT_CLEAN

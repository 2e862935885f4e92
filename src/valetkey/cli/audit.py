"""`valetkey audit`: find OAuth 2.0 / OpenID Connect pitfalls in Python source."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

import click

if TYPE_CHECKING:
    from rich.console import Console

    from valetkey.audit.baseline import Baseline
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
  valetkey audit src/ --write-baseline .valetkey-baseline.json    adopt: record today's findings
  valetkey audit src/ --baseline .valetkey-baseline.json          then report only new ones

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
@click.option(
    "--baseline",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Report only findings that are not in this baseline file.",
)
@click.option(
    "--write-baseline",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Record every current finding in FILE (for --baseline) and exit 0.",
)
@click.option(
    "--max-file-size",
    "max_file_size",
    metavar="SIZE",
    default="2M",
    show_default=True,
    help="Skip (and report) larger files; bytes, or with a K or M suffix.",
)
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
    baseline: Path | None,
    write_baseline: Path | None,
    max_file_size: str,
) -> None:
    """Audit Python files for the OAuth/OIDC pitfalls OA101-OA121.

    PATHS are files or folders (searched for *.py). Each finding names the check, the
    line, why it matters (with the RFC clause) and the fix.
    """
    try:
        opts = Options(
            paths, fmt, output, fail_on, select, ignore, explain, checklist, jobs, no_progress,
            baseline, write_baseline, max_file_size,
        )  # fmt: skip
        code = _run(opts)
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


@dataclass(frozen=True)
class Options:
    """The command line, as given."""

    paths: tuple[Path, ...]
    fmt: str
    output: Path | None
    fail_on: str
    select: tuple[str, ...]
    ignore: tuple[str, ...]
    explain: str | None
    checklist: bool
    jobs: int | None
    no_progress: bool
    baseline: Path | None
    write_baseline: Path | None
    max_file_size: str


def _run(opts: Options) -> int:
    from valetkey.audit.baseline import BaselineError

    if opts.explain is not None:
        return _explain(opts.explain, opts.output)
    if not opts.paths:
        raise _Usage("give at least one file or folder to audit, e.g. `valetkey audit src/`")
    if opts.baseline and opts.write_baseline:
        raise _Usage("use --baseline or --write-baseline, not both")
    try:
        known = _load_baseline(opts.baseline)
        result = _scan(opts)
        if opts.write_baseline is not None:
            return _record(result, opts.write_baseline)
    except BaselineError as exc:
        raise _Usage(str(exc)) from exc
    baselined = None
    if known is not None:
        result, baselined = known.apply(result)
    _write(result, opts, baselined)
    return _exit_code(result, opts.fail_on)


def _scan(opts: Options) -> ScanResult:
    from valetkey.audit.engine import Selection, UsageError, scan, validate_ids

    max_bytes = _size(opts.max_file_size)
    try:
        selection = Selection(
            validate_ids(_split_ids(opts.select)), validate_ids(_split_ids(opts.ignore))
        )
        config = _config(opts.paths)
        count = _count(opts.paths, config)
        with _progress(count, opts.no_progress) as tick:
            return scan(list(opts.paths), selection, config, opts.jobs, tick, max_bytes)
    except UsageError as exc:
        raise _Usage(str(exc)) from exc


def _size(text: str) -> int:
    units = {"K": 1024, "M": 1024 * 1024}
    raw = text.strip().upper().removesuffix("B")
    factor = units.get(raw[-1:], 1)
    digits = raw[:-1] if raw[-1:] in units else raw
    if not digits.isdigit() or int(digits) == 0:
        raise _Usage(f"--max-file-size {text!r}: give a size such as 500K, 2M or 1048576")
    return int(digits) * factor


def _load_baseline(path: Path | None) -> Baseline | None:
    from valetkey.audit.baseline import load_baseline

    return None if path is None else load_baseline(path)


def _record(result: ScanResult, path: Path) -> int:
    from valetkey.audit.baseline import write_baseline

    count = write_baseline(result, path)
    for error in result.errors:
        click.echo(f"valetkey audit: {error.file}: {error.message}", err=True)
    click.echo(
        f"Wrote {count} finding(s) from {result.files_scanned} file(s) to {path}; "
        f"`valetkey audit ... --baseline {path}` reports only new ones."
    )
    return EXIT_ERROR if any(e.internal for e in result.errors) else EXIT_CLEAN


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
    """The catalogue's entry, as `valetkey explain ID` prints it."""
    from valetkey import catalogue
    from valetkey.cli.explain import rendered, unknown_id

    entry = catalogue.lookup(check_id)
    if entry is None:
        raise _Usage(unknown_id(check_id))
    _emit(rendered(entry, "text"), output)
    return EXIT_CLEAN


def _write(result: ScanResult, opts: Options, baselined: int | None) -> None:
    from rich.console import Console

    from valetkey.audit.report import (
        checklist_json,
        dumps,
        render_checklist,
        render_text,
        to_json,
        to_sarif,
    )

    output = opts.output
    if opts.fmt == "json":
        data = to_json(result, baselined)
        if opts.checklist:
            data["checklist"] = checklist_json(result)
        _emit(dumps(data), output)
    elif opts.fmt == "sarif":
        _emit(dumps(to_sarif(result, baseline_used=baselined is not None)), output)
    else:
        stream: TextIO = open(output, "w", encoding="utf-8") if output else sys.stdout  # noqa: SIM115
        try:
            console = Console(
                file=stream,
                highlight=False,
                soft_wrap=True,
                no_color=output is not None or "NO_COLOR" in os.environ,
            )
            if opts.checklist:
                render_checklist(result, console)
            else:
                render_text(result, console, baselined)
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

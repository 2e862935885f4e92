"""Run the checks over files: parse, analyse, filter (select/ignore/suppressions), in
parallel for large trees."""

from __future__ import annotations

import ast
import io
import os
import re
import tokenize
import warnings
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from fnmatch import fnmatch
from pathlib import Path

from valetkey.audit.analysis import Analysis
from valetkey.audit.checks import all_checks
from valetkey.audit.model import FileReport, Finding, ScanError, ScanResult
from valetkey.audit.oauth import oauth_module
from valetkey.audit.registry import REGISTRY, AuditConfig, Check

PARALLEL_THRESHOLD = 50
_SUPPRESS = re.compile(r"valetkey:\s*ignore(?:\[([A-Za-z0-9_,\s]+)\])?")
_SKIP_DIRS = frozenset(
    {
        ".git",
        ".hg",
        ".svn",
        ".venv",
        "venv",
        "__pycache__",
        "node_modules",
        ".tox",
        ".nox",
        ".mypy_cache",
        ".pytest_cache",
        ".ruff_cache",
    }
)


@dataclass(frozen=True)
class Selection:
    """Which checks run: `select` (empty: all) minus `ignore`."""

    select: frozenset[str] = frozenset()
    ignore: frozenset[str] = frozenset()

    def checks(self) -> list[Check]:
        return [c for c in all_checks() if self.wants(c.id)]

    def wants(self, check_id: str) -> bool:
        chosen = not self.select or any(check_id.startswith(s) for s in self.select)
        return chosen and not any(check_id.startswith(i) for i in self.ignore)


class UsageError(ValueError):
    """A bad command-line value or configuration; shown to the user as one line."""


def validate_ids(ids: Iterable[str]) -> frozenset[str]:
    known = set(REGISTRY)
    chosen = frozenset(i.strip().upper() for i in ids if i.strip())
    unknown = sorted(i for i in chosen if not any(k.startswith(i) for k in known))
    if unknown:
        raise UsageError(
            f"unknown check id {', '.join(unknown)}; ids run from OA101 to OA121 "
            "(see `valetkey audit --explain OA101`)"
        )
    return chosen


# --- one file -------------------------------------------------------------------------------------
def audit_source(
    source: str,
    filename: str = "<string>",
    selection: Selection | None = None,
    config: AuditConfig | None = None,
) -> FileReport:
    """Audit one file's text; never raises for bad input, reports it as an error."""
    selection = selection or Selection()
    config = config or AuditConfig()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            tree = ast.parse(source, filename=filename)
    except (SyntaxError, ValueError) as exc:
        line = getattr(exc, "lineno", None)
        where = f" (line {line})" if line else ""
        return FileReport(
            filename,
            error=ScanError(
                filename, f"cannot parse{where}: {exc.msg if isinstance(exc, SyntaxError) else exc}"
            ),
        )
    module = Analysis(tree)
    suppressed = suppressions(source)
    findings: set[Finding] = set()
    for check in selection.checks():
        for hit in check.run(module, config):
            if _is_suppressed(suppressed, hit.line, check.id):
                continue
            findings.add(
                Finding(
                    filename,
                    hit.line,
                    hit.column + 1,
                    check.id,
                    check.slug,
                    check.severity,
                    hit.message,
                    check.fix,
                )
            )
    related = oauth_module(module)
    return FileReport(filename, tuple(sorted(findings)), None, related)


def suppressions(source: str) -> dict[int, frozenset[str]]:
    """`# valetkey: ignore[OA105]` comments by line; an empty set suppresses every check."""
    found: dict[int, frozenset[str]] = {}
    if "valetkey" not in source:
        return found  # no directive anywhere: skip tokenizing
    try:
        tokens = list(tokenize.generate_tokens(io.StringIO(source).readline))
    except (tokenize.TokenError, SyntaxError):
        return found
    for token in tokens:
        if token.type != tokenize.COMMENT:
            continue
        match = _SUPPRESS.search(token.string)
        if match:
            ids = match.group(1) or ""
            found[token.start[0]] = frozenset(
                i.strip().upper() for i in ids.split(",") if i.strip()
            )
    return found


def _is_suppressed(suppressed: dict[int, frozenset[str]], line: int, check_id: str) -> bool:
    ids = suppressed.get(line)
    return ids is not None and (not ids or check_id in ids)


def audit_file(path: Path, display: str, selection: Selection, config: AuditConfig) -> FileReport:
    try:
        with tokenize.open(path) as stream:  # PEP 263 encoding cookie and UTF-8 BOM
            source = stream.read()
    except (OSError, UnicodeDecodeError, SyntaxError) as exc:
        return FileReport(display, error=ScanError(display, f"cannot read: {exc}"))
    try:
        return audit_source(source, display, selection, config)
    except RecursionError:
        return FileReport(display, error=ScanError(display, "too deeply nested to analyse"))
    except Exception as exc:  # one file's bug must not stop the scan
        message = f"internal error ({type(exc).__name__}: {exc}); please report it"
        return FileReport(display, error=ScanError(display, message, internal=True))


def _audit_job(job: tuple[str, str, Selection, AuditConfig]) -> FileReport:
    path, display, selection, config = job
    return audit_file(Path(path), display, selection, config)


# --- many files -----------------------------------------------------------------------------------
def discover(paths: Sequence[Path], config: AuditConfig) -> list[Path]:
    """Python files under the given paths, minus excluded ones, in a stable order."""
    found: list[Path] = []
    for path in paths:
        if not path.exists():
            raise UsageError(f"{path}: no such file or directory")
        if path.is_file():
            found.append(path)  # named on the command line: audited even if excluded
            continue
        # a pattern that matches the folder named on the command line is not applied in it
        patterns = [p for p in config.exclude if not _excluded(path, [p])]
        for root, dirs, files in os.walk(path):
            dirs[:] = sorted(d for d in dirs if d not in _SKIP_DIRS)
            found.extend(
                Path(root) / f
                for f in sorted(files)
                if f.endswith(".py") and not _excluded(Path(root) / f, patterns)
            )
    return list(dict.fromkeys(found))


def _excluded(path: Path, patterns: Sequence[str]) -> bool:
    text = display_path(path)
    return any(fnmatch(text, p) or fnmatch(text, f"{p.rstrip('/')}/*") for p in patterns)


def display_path(path: Path) -> str:
    """The path relative to the current directory when it is below it, in POSIX form."""
    try:
        return path.resolve().relative_to(Path.cwd().resolve()).as_posix()
    except ValueError:
        return path.as_posix()


def scan(
    paths: Sequence[Path],
    selection: Selection | None = None,
    config: AuditConfig | None = None,
    jobs: int | None = None,
    progress: Callable[[int], None] | None = None,
) -> ScanResult:
    selection = selection or Selection()
    config = config or AuditConfig()
    files = discover(paths, config)
    work = [(str(p), display_path(p), selection, config) for p in files]
    workers = jobs or os.cpu_count() or 1
    reports = list(_run(work, workers, progress))
    return ScanResult(tuple(sorted(reports, key=lambda r: r.file)))


def _run(
    work: list[tuple[str, str, Selection, AuditConfig]],
    workers: int,
    progress: Callable[[int], None] | None,
) -> Iterator[FileReport]:
    if workers <= 1 or len(work) <= PARALLEL_THRESHOLD:
        for job in work:
            yield _audit_job(job)
            if progress is not None:
                progress(1)
        return
    chunk = max(1, min(32, len(work) // (workers * 8)))
    with ProcessPoolExecutor(max_workers=workers) as pool:
        for report in pool.map(_audit_job, work, chunksize=chunk):
            yield report
            if progress is not None:
                progress(1)

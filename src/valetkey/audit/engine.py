"""Run the checks over files: parse, analyse, filter (select/ignore/suppressions), in
parallel for large trees."""

from __future__ import annotations

import ast
import io
import os
import re
import stat
import tokenize
import warnings
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, replace
from fnmatch import fnmatch
from pathlib import Path

from valetkey.audit.analysis import Analysis
from valetkey.audit.checks import all_checks
from valetkey.audit.fingerprint import fingerprinted
from valetkey.audit.model import FileReport, Finding, ScanError, ScanResult
from valetkey.audit.oauth import oauth_module
from valetkey.audit.registry import REGISTRY, AuditConfig, Check

PARALLEL_THRESHOLD = 50
MAX_FILE_BYTES = 2 * 1024 * 1024  # larger .py files are generated data; --max-file-size
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


Job = tuple[str, str, Selection, AuditConfig, int]  # path, display, selection, config, cap


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


def audit_file(
    path: Path,
    display: str,
    selection: Selection,
    config: AuditConfig,
    max_bytes: int = MAX_FILE_BYTES,
) -> FileReport:
    """Audit one file from disk: a regular file of at most `max_bytes`, else a per-file error;
    its findings carry the fingerprints that baselines and SARIF use."""
    try:
        source = read_source(path, max_bytes)
    except Unreadable as exc:
        return FileReport(display, error=ScanError(display, str(exc)))
    try:
        report = audit_source(source, display, selection, config)
    except (RecursionError, MemoryError) as exc:  # Python's parser or our walk ran out of stack
        stage = "parse" if isinstance(exc, MemoryError) or "during ast" in str(exc) else "analyse"
        return FileReport(display, error=ScanError(display, f"cannot {stage}: nested too deeply"))
    except Exception as exc:  # one file's bug must not stop the scan
        message = f"internal error ({type(exc).__name__}: {exc}); please report it"
        return FileReport(display, error=ScanError(display, message, internal=True))
    return replace(report, findings=fingerprinted(report.findings, source))


class Unreadable(Exception):
    """A file the scan skips: not a regular file, too large, unreadable or undecodable."""


def read_source(path: Path, max_bytes: int) -> str:
    """The file's text, decoded by its PEP 263 cookie or BOM, universal newlines.

    Only regular files are opened (a FIFO would block, `/dev/zero` never ends), and the
    descriptor is checked again after the open, so a file swapped meanwhile is refused too."""
    try:
        _check_regular(os.stat(path).st_mode)
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_NOCTTY)
    except OSError as exc:
        raise Unreadable(f"cannot read: {exc.strerror or exc}") from exc
    with os.fdopen(fd, "rb") as stream:
        info = os.fstat(fd)
        _check_regular(info.st_mode)
        if info.st_size > max_bytes:
            raise Unreadable(_too_large(info.st_size, max_bytes))
        data = stream.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise Unreadable(_too_large(len(data), max_bytes))
    try:
        encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
        return io.TextIOWrapper(io.BytesIO(data), encoding, newline=None).read()
    except (SyntaxError, LookupError, UnicodeDecodeError) as exc:
        raise Unreadable(f"cannot read: {exc}") from exc


def _check_regular(mode: int) -> None:
    if not stat.S_ISREG(mode):
        raise Unreadable(f"cannot read: not a regular file ({_kind(mode)})")


def _kind(mode: int) -> str:
    kinds = {
        stat.S_ISDIR: "a directory",
        stat.S_ISFIFO: "a FIFO",
        stat.S_ISCHR: "a character device",
        stat.S_ISBLK: "a block device",
        stat.S_ISSOCK: "a socket",
    }
    return next((name for test, name in kinds.items() if test(mode)), "of an unknown kind")


def _too_large(size: int, max_bytes: int) -> str:
    return f"skipped: {size:,} bytes, over the {max_bytes:,}-byte limit (--max-file-size)"


def _audit_job(job: Job) -> FileReport:
    path, display, selection, config, max_bytes = job
    return audit_file(Path(path), display, selection, config, max_bytes)


# --- many files -----------------------------------------------------------------------------------
def discover(paths: Sequence[Path], config: AuditConfig) -> list[Path]:
    """Python files under the given paths, minus excluded ones, in a stable order.

    A path named on the command line must be a folder or a regular file (a device, a FIFO or
    a broken link is a usage error). Inside folders, links to folders are not followed, so a
    link loop cannot trap the walk; links to files are kept and checked when read."""
    found: list[Path] = []
    for path in paths:
        if _named_kind(path) != "folder":
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


def _named_kind(path: Path) -> str:
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        kind = "a broken link" if path.is_symlink() else "no such file or directory"
        raise UsageError(f"{path}: {kind}") from None
    except OSError as exc:
        raise UsageError(f"{path}: cannot read: {exc.strerror or exc}") from None
    if stat.S_ISDIR(mode):
        return "folder"
    if not stat.S_ISREG(mode):
        raise UsageError(f"{path}: cannot read: not a regular file ({_kind(mode)})")
    return "file"


def _excluded(path: Path, patterns: Sequence[str]) -> bool:
    text = display_path(path)
    return any(fnmatch(text, p) or fnmatch(text, f"{p.rstrip('/')}/*") for p in patterns)


def display_path(path: Path) -> str:
    """The path relative to the current directory when it is below it, in POSIX form.

    Only the folder is resolved, so a linked file shows under its own name, and a link loop
    cannot make resolving fail."""
    try:
        name = path.name
        folder = path.parent if name not in ("", ".", "..") else path
        full = folder.resolve() / name if folder is not path else path.resolve()
        return full.relative_to(Path.cwd().resolve()).as_posix()
    except (ValueError, OSError, RuntimeError):
        return path.as_posix()


def scan(
    paths: Sequence[Path],
    selection: Selection | None = None,
    config: AuditConfig | None = None,
    jobs: int | None = None,
    progress: Callable[[int], None] | None = None,
    max_bytes: int = MAX_FILE_BYTES,
) -> ScanResult:
    selection = selection or Selection()
    config = config or AuditConfig()
    files = discover(paths, config)
    work = [(str(p), display_path(p), selection, config, max_bytes) for p in files]
    workers = jobs or os.cpu_count() or 1
    reports = list(_run(work, workers, progress))
    return ScanResult(tuple(sorted(reports, key=lambda r: r.file)))


def _run(
    work: list[Job],
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

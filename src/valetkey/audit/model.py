"""The auditor's data: findings, scan errors and the result of a scan (severities are the
catalogue's)."""

from __future__ import annotations

from dataclasses import dataclass, field

from valetkey.catalogue.entry import Severity as Severity  # re-exported: the auditor's severities


@dataclass(frozen=True, order=True)
class Finding:
    """One problem found at one place in one file."""

    file: str
    line: int
    column: int
    id: str
    slug: str
    severity: Severity
    message: str
    fix: str
    # where the finding is in the code, independent of its line number (audit/fingerprint.py)
    fingerprint: str = field(default="", compare=False)


@dataclass(frozen=True)
class ScanError:
    """A file that could not be read or parsed; the scan goes on without it."""

    file: str
    message: str
    internal: bool = False  # a bug of the auditor (exit status 2), not a bad input file


@dataclass(frozen=True)
class FileReport:
    """What one file gave: its findings (already filtered) or an error."""

    file: str
    findings: tuple[Finding, ...] = ()
    error: ScanError | None = None
    oauth_related: bool = False


@dataclass(frozen=True)
class ScanResult:
    """The outcome of auditing a set of paths."""

    reports: tuple[FileReport, ...] = field(default_factory=tuple)

    @property
    def findings(self) -> tuple[Finding, ...]:
        return tuple(sorted(f for r in self.reports for f in r.findings))

    @property
    def errors(self) -> tuple[ScanError, ...]:
        return tuple(r.error for r in self.reports if r.error is not None)

    @property
    def files_scanned(self) -> int:
        return len(self.reports)

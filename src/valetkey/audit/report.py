"""Report formats: human text (rich), JSON, and SARIF 2.1.0 built from typed records."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from valetkey import __version__
from valetkey.audit.checks import all_checks
from valetkey.audit.fingerprint import fingerprinted
from valetkey.audit.model import FileReport, Finding, ScanResult, Severity
from valetkey.audit.registry import Check

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
INFORMATION_URI = "https://github.com/valetkey/valetkey/blob/main/docs/audit.md"
_COLOURS = {Severity.HIGH: "red", Severity.MEDIUM: "yellow", Severity.LOW: "cyan"}
_SARIF_LEVEL = {Severity.HIGH: "error", Severity.MEDIUM: "warning", Severity.LOW: "note"}
_SECURITY_SEVERITY = {Severity.HIGH: "8.0", Severity.MEDIUM: "5.5", Severity.LOW: "3.0"}

# The lesson's checklist: item -> the checks whose findings make it fail.
CHECKLIST: tuple[tuple[str, frozenset[str]], ...] = (
    ("state generated and verified", frozenset({"OA101", "OA102", "OA103", "OA119"})),
    ("exact redirect_uri", frozenset({"OA104"})),
    ("client secret from the environment", frozenset({"OA105"})),
    ("minimal scope", frozenset({"OA108"})),
    ("authorization-code flow", frozenset({"OA106", "OA118"})),
    ("PKCE for public clients", frozenset({"OA107"})),
)


# --- text ----------------------------------------------------------------------------------------
def render_text(result: ScanResult, console: Console, baselined: int | None = None) -> None:
    by_file: dict[str, list[Finding]] = {}
    for finding in result.findings:
        by_file.setdefault(finding.file, []).append(finding)
    for name, findings in by_file.items():
        console.print(f"[bold]{escape(name)}[/bold]")
        lines = _source_lines(name)
        for f in findings:
            colour = _COLOURS[f.severity]
            console.print(
                f"  {f.line}:{f.column}  [{colour}]{f.id}[/{colour}] {f.slug} "
                f"[{colour}]({f.severity.label})[/{colour}]  {escape(f.message)}"
            )
            if 0 < f.line <= len(lines):
                console.print(f"      [dim]{escape(lines[f.line - 1].strip())}[/dim]")
            console.print(f"      fix: {escape(f.fix)}")
        console.print()
    for error in result.errors:
        console.print(f"[red]error[/red] {escape(error.file)}: {escape(error.message)}")
    console.print(_summary(result, baselined))


def _summary(result: ScanResult, baselined: int | None) -> str:
    count = len(result.findings)
    files = result.files_scanned
    errors = len(result.errors)
    noun = "finding" if count == 1 else "findings"
    new = " new" if baselined is not None else ""
    tail = f", {errors} file(s) could not be read or parsed" if errors else ""
    known = f", {baselined} known from the baseline not shown" if baselined else ""
    return f"{count}{new} {noun} in {files} file(s) scanned{tail}{known}."


def _source_lines(name: str) -> list[str]:
    try:
        return Path(name).read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return []


# --- json ----------------------------------------------------------------------------------------
def to_json(result: ScanResult, baselined: int | None = None) -> dict[str, Any]:
    data: dict[str, Any] = {
        "findings": [
            {
                "id": f.id,
                "slug": f.slug,
                "file": f.file,
                "line": f.line,
                "column": f.column,
                "severity": f.severity.label,
                "message": f.message,
            }
            for f in result.findings
        ],
        "files_scanned": result.files_scanned,
        "errors": [{"file": e.file, "message": e.message} for e in result.errors],
    }
    if baselined is not None:
        data["baselined"] = baselined  # findings the baseline knows, left out above
    return data


def with_fingerprints(findings: Sequence[Finding]) -> list[Finding]:
    """Findings made from a file on disk carry a fingerprint; others (`audit_source` on a
    string) get one here from the file named, or from nothing when it cannot be read."""
    missing: dict[str, list[Finding]] = {}
    for f in findings:
        if not f.fingerprint:
            missing.setdefault(f.file, []).append(f)
    done = {
        f: g
        for name, group in missing.items()
        for f, g in zip(group, fingerprinted(group, "\n".join(_source_lines(name))), strict=True)
    }
    return [done.get(f, f) if not f.fingerprint else f for f in findings]


# --- checklist -----------------------------------------------------------------------------------
def render_checklist(result: ScanResult, console: Console) -> None:
    reports = [r for r in result.reports if r.oauth_related or r.findings]
    if not reports:
        console.print(f"No OAuth code found in {result.files_scanned} file(s); nothing to check.")
        return
    table = Table(title="OAuth client checklist")
    table.add_column("file")
    for item, _ in CHECKLIST:
        table.add_column(item)
    for report in reports:
        table.add_row(escape(report.file), *checklist_row(report))
    console.print(table)


def checklist_row(report: FileReport) -> list[str]:
    fired = {f.id for f in report.findings}
    return ["fail" if fired & ids else "pass" for _, ids in CHECKLIST]


def checklist_json(result: ScanResult) -> list[dict[str, Any]]:
    rows = []
    for report in result.reports:
        if report.oauth_related or report.findings:
            items = dict(zip((i for i, _ in CHECKLIST), checklist_row(report), strict=True))
            rows.append({"file": report.file, "items": items})
    return rows


# --- SARIF ---------------------------------------------------------------------------------------
@dataclass(frozen=True)
class SarifRule:
    id: str
    name: str
    short: str
    full: str
    help_text: str
    help_markdown: str
    help_uri: str
    level: str
    tags: tuple[str, ...]
    security_severity: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "shortDescription": {"text": self.short},
            "fullDescription": {"text": self.full},
            "help": {"text": self.help_text, "markdown": self.help_markdown},
            "helpUri": self.help_uri,
            "defaultConfiguration": {"level": self.level},
            "properties": {
                "tags": list(self.tags),
                "precision": "high",
                "security-severity": self.security_severity,
            },
        }


@dataclass(frozen=True)
class SarifResult:
    rule_id: str
    rule_index: int
    level: str
    message: str
    uri: str
    line: int
    column: int
    fingerprint: str
    baseline_state: str | None = None  # "new" when the run used a baseline

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "ruleId": self.rule_id,
            "ruleIndex": self.rule_index,
            "level": self.level,
            "message": {"text": self.message},
            "locations": [
                {
                    "physicalLocation": {
                        "artifactLocation": {"uri": self.uri, "uriBaseId": "%SRCROOT%"},
                        "region": {"startLine": self.line, "startColumn": self.column},
                    }
                }
            ],
            # SARIF 2.1.0 §3.27.17: lets code scanning follow the finding across commits
            "partialFingerprints": {"primaryLocationLineHash": self.fingerprint},
        }
        if self.baseline_state is not None:
            data["baselineState"] = self.baseline_state  # SARIF 2.1.0 §3.27.24
        return data


@dataclass(frozen=True)
class SarifNotification:
    uri: str
    message: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "level": "error",
            "message": {"text": self.message},
            "locations": [
                {
                    "physicalLocation": {
                        "artifactLocation": {"uri": self.uri, "uriBaseId": "%SRCROOT%"}
                    }
                }
            ],
        }


@dataclass(frozen=True)
class SarifLog:
    rules: tuple[SarifRule, ...]
    results: tuple[SarifResult, ...]
    notifications: tuple[SarifNotification, ...] = field(default_factory=tuple)

    def to_dict(self) -> dict[str, Any]:
        return {
            "$schema": SARIF_SCHEMA,
            "version": "2.1.0",
            "runs": [
                {
                    "tool": {
                        "driver": {
                            "name": "valetkey",
                            "version": __version__,
                            "informationUri": INFORMATION_URI,
                            "rules": [r.to_dict() for r in self.rules],
                        }
                    },
                    "invocations": [
                        {
                            "executionSuccessful": not self.notifications,
                            "toolExecutionNotifications": [n.to_dict() for n in self.notifications],
                        }
                    ],
                    "results": [r.to_dict() for r in self.results],
                }
            ],
        }


def sarif_rule(check: Check) -> SarifRule:
    bad, good = check.examples()
    refs = "\n".join(f"- <{url}>" for url in check.references)
    markdown = (
        f"**{check.id} {check.slug}** ({check.clause})\n\n{_doc_body(check)}\n\n"
        f"**Fix:** {check.fix}\n\nBad:\n```python\n{bad}```\n\nGood:\n```python\n{good}```\n\n"
        f"References:\n{refs}\n"
    )
    text = f"{check.summary} ({check.clause}). Fix: {check.fix} References: " + ", ".join(
        check.references
    )
    return SarifRule(
        id=check.id,
        name=_pascal(check.slug),
        short=check.summary,
        full=_doc_body(check).replace("\n", " "),
        help_text=text,
        help_markdown=markdown,
        help_uri=check.references[0],
        level=_SARIF_LEVEL[check.severity],
        tags=("security", "oauth", check.slug),
        security_severity=_SECURITY_SEVERITY[check.severity],
    )


def _pascal(slug: str) -> str:
    return "".join(part.capitalize() for part in slug.split("-"))


def _doc_body(check: Check) -> str:
    paragraphs = check.doc.split("\n\n")
    return "\n\n".join(p for p in paragraphs[1:] if p.startswith(("What:", "Why:")))


def to_sarif(
    result: ScanResult, checks: Sequence[Check] | None = None, baseline_used: bool = False
) -> dict[str, Any]:
    rules = tuple(sarif_rule(c) for c in (checks or all_checks()))
    index = {r.id: i for i, r in enumerate(rules)}
    results = tuple(
        SarifResult(
            f.id,
            index[f.id],
            _SARIF_LEVEL[f.severity],
            f"{f.message}. Fix: {f.fix}",
            f.file,
            max(f.line, 1),
            max(f.column, 1),
            f.fingerprint,
            "new" if baseline_used else None,
        )
        for f in with_fingerprints(result.findings)
        if f.id in index
    )
    notes = tuple(SarifNotification(e.file, e.message) for e in result.errors)
    return SarifLog(rules, results, notes).to_dict()


def dumps(data: object) -> str:
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"

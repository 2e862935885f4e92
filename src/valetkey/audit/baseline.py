"""Baselines: record today's findings once, then report only new ones.

`valetkey audit PATHS --write-baseline FILE` writes every finding's id, file and fingerprint
(audit/fingerprint.py); `--baseline FILE` drops the findings found there. The match uses the
fingerprint, not the line, so it survives code added or removed above a finding; editing the
offending line makes the finding new again. File paths are as shown in reports (relative to
the folder the audit runs in), so write and use a baseline from the same folder.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from valetkey.audit.model import Finding, ScanResult

FORMAT_VERSION = 1
Key = tuple[str, str, str]  # id, file, fingerprint


class BaselineError(Exception):
    """A baseline file that is missing or is not one; the message is shown to the user."""


@dataclass(frozen=True)
class Baseline:
    keys: frozenset[Key]

    def known(self, finding: Finding) -> bool:
        return key(finding) in self.keys

    def apply(self, result: ScanResult) -> tuple[ScanResult, int]:
        """The result without the findings this baseline records, and how many were dropped."""
        reports = tuple(
            replace(r, findings=tuple(f for f in r.findings if not self.known(f)))
            for r in result.reports
        )
        kept = ScanResult(reports)
        return kept, len(result.findings) - len(kept.findings)


def key(finding: Finding) -> Key:
    return finding.id, finding.file, finding.fingerprint


def write_baseline(result: ScanResult, path: Path) -> int:
    """Write every finding of `result` to `path`; returns how many."""
    entries = [
        {
            "id": f.id,
            "file": f.file,
            "fingerprint": f.fingerprint,
            "line": f.line,
            "message": f.message,
        }
        for f in result.findings
    ]
    data = {"tool": "valetkey", "version": FORMAT_VERSION, "findings": entries}
    try:
        path.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    except OSError as exc:
        raise BaselineError(f"cannot write the baseline {path}: {exc.strerror or exc}") from exc
    return len(entries)


def load_baseline(path: Path) -> Baseline:
    """Read a baseline written by `write_baseline`; anything else raises `BaselineError`."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise BaselineError(
            f"baseline {path} does not exist; create it with `--write-baseline {path}`"
        ) from None
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) else "not UTF-8 text"
        raise BaselineError(f"cannot read the baseline {path}: {reason}") from exc
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise _malformed(path, f"not JSON ({exc})") from exc
    return Baseline(frozenset(_keys(data, path)))


def _keys(data: Any, path: Path) -> list[Key]:
    if not isinstance(data, dict) or data.get("tool") != "valetkey":
        raise _malformed(path, 'no "tool": "valetkey"')
    if data.get("version") != FORMAT_VERSION:
        raise _malformed(path, f"format version {data.get('version')!r}, expected 1")
    entries = data.get("findings")
    if not isinstance(entries, list):
        raise _malformed(path, '"findings" is not a list')
    return [_entry(entry, number, path) for number, entry in enumerate(entries, start=1)]


def _entry(entry: Any, number: int, path: Path) -> Key:
    fields = ("id", "file", "fingerprint")
    values = [entry.get(k) for k in fields] if isinstance(entry, dict) else []
    strings = [v for v in values if isinstance(v, str) and v]
    if len(strings) != 3:
        raise _malformed(path, f"finding {number} lacks a string id, file or fingerprint")
    return strings[0], strings[1], strings[2]


def _malformed(path: Path, why: str) -> BaselineError:
    return BaselineError(
        f"{path} is not a valetkey baseline: {why}; recreate it with `--write-baseline {path}`"
    )

"""Shared helpers for the auditor's tests: fixture discovery and expected findings."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from valetkey.audit.engine import audit_source
from valetkey.audit.model import FileReport

FIXTURES = Path(__file__).parent / "fixtures"
_EXPECT = re.compile(r"#\s*expect:\s*([A-Z0-9, ]+)")


def expected_pairs(source: str) -> set[tuple[str, int]]:
    """(id, line) pairs announced by `# expect: OA105[, OA109]` comments."""
    pairs: set[tuple[str, int]] = set()
    for number, line in enumerate(source.splitlines(), start=1):
        match = _EXPECT.search(line)
        if match:
            pairs |= {(i.strip(), number) for i in match.group(1).split(",") if i.strip()}
    return pairs


def found_pairs(report: FileReport) -> set[tuple[str, int]]:
    return {(f.id, f.line) for f in report.findings}


def audit_text(source: str, name: str = "example.py") -> FileReport:
    return audit_source(source, name)


def fixture_files(kind: str) -> list[Path]:
    return sorted(FIXTURES.glob(f"oa1*/{kind}_*.py"))


@pytest.fixture
def write_tree(tmp_path: Path):  # type: ignore[no-untyped-def]
    """Write {relative path: text} under a temporary folder and return the folder."""

    def write(files: dict[str, str]) -> Path:
        for rel, text in files.items():
            target = tmp_path / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text, encoding="utf-8")
        return tmp_path

    return write

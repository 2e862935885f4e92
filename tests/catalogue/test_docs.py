"""docs/checks.md is generated from the catalogue and committed up to date."""

from __future__ import annotations

from pathlib import Path

from valetkey import catalogue
from valetkey.catalogue.docs import COMMAND, generate

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "checks.md"


def test_committed_reference_is_current() -> None:
    committed = DOC.read_text(encoding="utf-8")
    assert committed == generate(), f"docs/checks.md is stale: run `make docs` ({COMMAND})"


def test_one_anchor_per_id() -> None:
    headings = [line for line in generate().splitlines() if line.startswith("### ")]
    assert headings == [f"### {entry.id}" for entry in catalogue.entries()]


def test_readme_and_family_docs_link_the_reference() -> None:
    assert "(docs/checks.md)" in (ROOT / "README.md").read_text(encoding="utf-8")
    for page in ("audit.md", "probe.md", "mcp.md"):
        assert "(checks.md" in (ROOT / "docs" / page).read_text(encoding="utf-8")

"""docs/audit.md stays in step with the code: every check, its slug and its severity."""

from __future__ import annotations

from pathlib import Path

import pytest

from valetkey.audit.checks import all_checks
from valetkey.audit.registry import Check

DOC = (Path(__file__).resolve().parents[2] / "docs" / "audit.md").read_text(encoding="utf-8")


@pytest.mark.parametrize("check", all_checks(), ids=lambda c: c.id)
def test_reference_table_lists_the_check(check: Check) -> None:
    row = f"| {check.id} | {check.slug} | {check.severity.label} | {check.summary} |"
    assert row in DOC


def test_documented_options_exist() -> None:
    from valetkey.cli.audit import audit

    names = {opt for param in audit.params for opt in getattr(param, "opts", [])}
    for option in (
        "--format",
        "--output",
        "--fail-on",
        "--select",
        "--ignore",
        "--explain",
        "--checklist",
        "--jobs",
        "--no-progress",
    ):
        assert option in names
        assert f"`{option}" in DOC or f"`-o, {option}" in DOC or f"`-j, {option}" in DOC


def test_quick_start_example_is_what_the_command_prints(monkeypatch: pytest.MonkeyPatch) -> None:
    from click.testing import CliRunner

    from valetkey.cli.audit import audit

    block = DOC.split("```console\n", 1)[1].split("```", 1)[0]
    command, rest = block.split("\n", 1)
    printed, status = rest.split("$ echo $?\n")
    monkeypatch.chdir(Path(__file__).resolve().parents[2])
    outcome = CliRunner().invoke(audit, command.split()[3:])
    assert outcome.output == printed
    assert str(outcome.exit_code) == status.strip()

"""Every check against its bad fixtures (exact id and line) and good fixtures (silence)."""

from __future__ import annotations

from pathlib import Path

import pytest

from valetkey.audit.checks import all_checks

from .conftest import FIXTURES, audit_text, expected_pairs, fixture_files, found_pairs
from .renaming import rename_locals

BAD = fixture_files("bad")
GOOD = fixture_files("good")


def _id(path: Path) -> str:
    return f"{path.parent.name}/{path.stem}"


@pytest.mark.parametrize("path", BAD, ids=_id)
def test_bad_fixture_reports_exactly_the_expected_lines(path: Path) -> None:
    source = path.read_text(encoding="utf-8")
    expected = expected_pairs(source)
    check_id = path.parent.name.upper()
    assert any(i == check_id for i, _ in expected), "a bad fixture must expect its own check"
    report = audit_text(source, path.name)
    assert report.error is None
    assert found_pairs(report) == expected


@pytest.mark.parametrize("path", GOOD, ids=_id)
def test_good_fixture_is_silent(path: Path) -> None:
    source = path.read_text(encoding="utf-8")
    assert expected_pairs(source) == set()
    report = audit_text(source, path.name)
    assert report.error is None
    assert found_pairs(report) == set()


@pytest.mark.parametrize("path", BAD + GOOD, ids=_id)
def test_findings_do_not_depend_on_variable_names(path: Path) -> None:
    source = path.read_text(encoding="utf-8")
    renamed = rename_locals(source)
    assert renamed != source or "def " not in source
    assert found_pairs(audit_text(renamed, path.name)) == found_pairs(audit_text(source))


@pytest.mark.parametrize("check", all_checks(), ids=lambda c: c.id)
def test_every_check_has_three_bad_and_three_good_fixtures(check: object) -> None:
    folder = FIXTURES / check.id.lower()
    assert len(list(folder.glob("bad_*.py"))) >= 3
    assert len(list(folder.glob("good_*.py"))) >= 3

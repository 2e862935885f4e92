"""Each check's documentation: complete, and its examples behave as documented."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from valetkey.audit.checks import all_checks
from valetkey.audit.registry import Check
from valetkey.cli.audit import audit

from .conftest import audit_text

CHECKS = all_checks()


def test_the_catalogue_is_complete() -> None:
    assert [c.id for c in CHECKS] == [f"OA{n}" for n in range(101, 122)]


@pytest.mark.parametrize("check", CHECKS, ids=lambda c: c.id)
def test_documentation_has_what_why_and_examples(check: Check) -> None:
    assert "What:" in check.doc
    assert "Why:" in check.doc
    assert check.clause
    assert check.fix
    assert check.references
    bad, good = check.examples()
    assert bad.strip()
    assert good.strip()


@pytest.mark.parametrize("check", CHECKS, ids=lambda c: c.id)
def test_bad_example_triggers_the_check(check: Check) -> None:
    bad, _ = check.examples()
    assert check.id in {f.id for f in audit_text(bad).findings}


@pytest.mark.parametrize("check", CHECKS, ids=lambda c: c.id)
def test_good_example_is_clean(check: Check) -> None:
    _, good = check.examples()
    assert audit_text(good).findings == ()


def test_explain_prints_the_documentation() -> None:
    outcome = CliRunner().invoke(audit, ["--explain", "oa103"])
    assert outcome.exit_code == 0
    assert outcome.output.startswith("OA103 state-unverified  (severity: high;")
    assert "RFC 6749 §10.12" in outcome.output
    assert "Bad:" in outcome.output
    assert "Good:" in outcome.output


def test_explain_unknown_id_is_a_usage_error() -> None:
    outcome = CliRunner().invoke(audit, ["--explain", "OA999"])
    assert outcome.exit_code == 2
    assert "unknown check id 'OA999'" in outcome.output

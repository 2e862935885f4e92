"""SARIF `partialFingerprints`: every result carries one, valid SARIF 2.1.0, stable across
line shifts, different for different code."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest

from valetkey.audit.engine import audit_source, scan
from valetkey.audit.model import ScanResult
from valetkey.audit.report import to_sarif

from .conftest import FIXTURES

SCHEMA = json.loads((Path(__file__).parent / "sarif" / "sarif-schema-2.1.0.json").read_text())
NAMES = ("oa105/bad_authlib_register.py", "oa103/bad_no_comparison.py", "oa109/bad_print_token.py")


def _tree(root: Path, shift: int = 0) -> None:
    for name in NAMES:
        target = root / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text("# moved\n" * shift + (FIXTURES / name).read_text())


def _results(log: dict[str, object]) -> list[tuple[str, int, str]]:
    runs = log["runs"]
    assert isinstance(runs, list)
    return [
        (
            r["ruleId"],
            r["locations"][0]["physicalLocation"]["region"]["startLine"],
            r["partialFingerprints"]["primaryLocationLineHash"],
        )
        for r in runs[0]["results"]
    ]


@pytest.fixture
def log(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, object]:
    _tree(tmp_path)
    monkeypatch.chdir(tmp_path)
    return to_sarif(scan([Path(".")], jobs=1))


def test_every_result_has_a_fingerprint_and_the_log_is_valid(log: dict[str, object]) -> None:
    jsonschema.Draft4Validator(SCHEMA).validate(log)
    results = _results(log)
    assert len(results) >= 3
    assert all(len(h) == 18 and h.endswith(":0") for _, _, h in results)
    assert len({h for _, _, h in results}) == len(results)


def test_fingerprints_survive_a_line_shift(
    log: dict[str, object], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    moved = tmp_path / "moved"
    _tree(moved, shift=4)
    monkeypatch.chdir(moved)
    shifted = _results(to_sarif(scan([Path(".")], jobs=1)))
    assert [(i, line - 4, h) for i, line, h in shifted] == _results(log)


def test_a_result_made_from_a_string_still_gets_a_fingerprint() -> None:
    source = (FIXTURES / NAMES[0]).read_text()
    result = ScanResult((audit_source(source, "not-on-disk.py"),))
    log = to_sarif(result)
    jsonschema.Draft4Validator(SCHEMA).validate(log)
    ((rule, line, digest),) = _results(log)
    assert (rule, line) == ("OA105", 9)
    assert digest.endswith(":0")
    assert "baselineState" not in log["runs"][0]["results"][0]  # type: ignore[index]

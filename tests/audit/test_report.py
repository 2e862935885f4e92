"""Report formats: JSON shape, SARIF validated against the official schema, text, checklist."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
from rich.console import Console

from valetkey.audit.engine import scan
from valetkey.audit.model import ScanResult
from valetkey.audit.report import checklist_json, render_checklist, render_text, to_json, to_sarif

from .conftest import FIXTURES

SCHEMA = json.loads((Path(__file__).parent / "sarif" / "sarif-schema-2.1.0.json").read_text())
BROKEN = "def broken(:\n    pass\n"


@pytest.fixture
def result(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> ScanResult:
    for name in ("oa105/bad_authlib_register.py", "oa103/bad_no_comparison.py"):
        target = tmp_path / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text((FIXTURES / name).read_text())
    (tmp_path / "broken.py").write_text(BROKEN)
    monkeypatch.chdir(tmp_path)
    return scan([Path(".")], jobs=1)


def test_json_has_the_documented_shape(result: ScanResult) -> None:
    data = to_json(result)
    assert set(data) == {"findings", "files_scanned", "errors"}
    assert data["files_scanned"] == 3
    assert data["errors"] == [{"file": "broken.py", "message": data["errors"][0]["message"]}]
    assert "line 1" in data["errors"][0]["message"]
    first = data["findings"][0]
    assert set(first) == {"id", "slug", "file", "line", "column", "severity", "message"}
    ids = {(f["id"], f["file"], f["line"]) for f in data["findings"]}
    assert ("OA105", "oa105/bad_authlib_register.py", 9) in ids
    assert ("OA103", "oa103/bad_no_comparison.py", 10) in ids


def test_sarif_validates_against_the_official_schema(result: ScanResult) -> None:
    log = to_sarif(result)
    jsonschema.Draft4Validator(SCHEMA).validate(log)
    run = log["runs"][0]
    rules = {r["id"]: r for r in run["tool"]["driver"]["rules"]}
    assert set(rules) == {f"OA{n}" for n in range(101, 122)}
    assert rules["OA103"]["name"] == "StateUnverified"
    assert "RFC 6749" in rules["OA103"]["help"]["text"]
    assert rules["OA103"]["helpUri"].startswith("https://www.rfc-editor.org/")
    located = run["results"][0]["locations"][0]["physicalLocation"]
    assert located["artifactLocation"]["uri"].endswith(".py")
    assert run["invocations"][0]["toolExecutionNotifications"][0]["level"] == "error"


def test_sarif_of_a_clean_scan_is_valid() -> None:
    jsonschema.Draft4Validator(SCHEMA).validate(to_sarif(ScanResult()))


def test_text_shows_source_line_id_slug_reason_and_fix(result: ScanResult) -> None:
    console = Console(record=True, width=200, no_color=True)
    render_text(result, console)
    text = console.export_text()
    assert "oa105/bad_authlib_register.py" in text
    assert "9:19  OA105 client-secret-in-code (high)" in text
    assert 'client_secret="1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e"' in text
    assert "fix: Read the client secret from the environment" in text
    assert "error broken.py: cannot parse (line 1)" in text


def test_checklist_marks_each_item_per_file(result: ScanResult) -> None:
    rows = {row["file"]: row["items"] for row in checklist_json(result)}
    assert rows["oa105/bad_authlib_register.py"]["client secret from the environment"] == "fail"
    assert rows["oa105/bad_authlib_register.py"]["state generated and verified"] == "pass"
    assert rows["oa103/bad_no_comparison.py"]["state generated and verified"] == "fail"
    console = Console(record=True, width=250, no_color=True)
    render_checklist(result, console)
    assert "PKCE for public clients" in console.export_text()

"""`--write-baseline` / `--baseline`: adopt the auditor in a repository with known findings,
then fail only on new ones. Matching is by id, file and code fingerprint, not line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from valetkey.audit.engine import audit_source
from valetkey.audit.fingerprint import fingerprinted
from valetkey.cli.audit import audit

SECRET_LINE = '    secret = "1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e"\n'
APP = (
    "import requests\n"
    "\n"
    'TOKEN_URL = "https://github.com/login/oauth/access_token"\n'
    "\n"
    "\n"
    "def exchange(code):\n"
    f"{SECRET_LINE}"  # line 7
    '    return requests.post(TOKEN_URL, data={"code": code, "client_secret": secret}, timeout=9)\n'
    "\n"
    "\n"
    "def refresh(token):\n"
    f"{SECRET_LINE}"  # line 12: the same text, another function
    '    data = {"refresh_token": token, "client_secret": secret}\n'
    "    return requests.post(TOKEN_URL, data=data, timeout=9)\n"
)


def run(*args: str) -> tuple[int, str]:
    outcome = CliRunner().invoke(audit, list(args))
    return outcome.exit_code, outcome.output


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / "app.py").write_text(APP)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def _json(*args: str) -> tuple[int, dict[str, object]]:
    code, output = run("app.py", "--format", "json", *args)
    return code, json.loads(output)


def _pairs(data: dict[str, object]) -> list[tuple[str, int]]:
    findings = data["findings"]
    assert isinstance(findings, list)
    return [(f["id"], f["line"]) for f in findings]


def test_write_baseline_records_every_finding_and_exits_0(repo: Path) -> None:
    code, output = run("app.py", "--write-baseline", "base.json")
    assert code == 0
    assert output == (
        "Wrote 2 finding(s) from 1 file(s) to base.json; "
        "`valetkey audit ... --baseline base.json` reports only new ones.\n"
    )
    data = json.loads((repo / "base.json").read_text())
    assert (data["tool"], data["version"]) == ("valetkey", 1)
    assert [(f["id"], f["file"], f["line"]) for f in data["findings"]] == [
        ("OA105", "app.py", 7),
        ("OA105", "app.py", 12),
    ]
    first, second = (f["fingerprint"] for f in data["findings"])
    assert first != second  # the same line in two functions


def test_baseline_hides_known_findings_and_exits_0(repo: Path) -> None:
    assert run("app.py", "--write-baseline", "base.json")[0] == 0
    assert run("app.py")[0] == 1
    code, output = run("app.py", "--baseline", "base.json")
    assert code == 0
    assert output.splitlines()[-1] == (
        "0 new findings in 1 file(s) scanned, 2 known from the baseline not shown."
    )


def test_shifted_lines_still_match(repo: Path) -> None:
    assert run("app.py", "--write-baseline", "base.json")[0] == 0
    shifted = APP.replace("\n\n\ndef refresh", "\n\n# x\n\ndef refresh")
    shifted = "import os\nimport sys\n\n" + shifted
    (repo / "app.py").write_text(shifted)
    assert _pairs(_json()[1]) == [("OA105", 10), ("OA105", 16)]  # both moved
    code, data = _json("--baseline", "base.json")
    assert code == 0
    assert (_pairs(data), data["baselined"]) == ([], 2)


def test_a_changed_offending_line_is_new(repo: Path) -> None:
    assert run("app.py", "--write-baseline", "base.json")[0] == 0
    other = '    secret = "f0e1d2c3b4a5968778695a4b3c2d1e0f0a1b2c3d"\n'
    changed = APP.replace(SECRET_LINE, other, 1)
    (repo / "app.py").write_text(changed)
    code, data = _json("--baseline", "base.json")
    assert code == 1
    assert (_pairs(data), data["baselined"]) == ([("OA105", 7)], 1)


def test_a_second_identical_line_in_the_same_function_is_new(repo: Path) -> None:
    call = (
        '    requests.post(TOKEN_URL, data={"client_secret": '
        '"1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e"}, timeout=9)\n'
    )
    head = 'import requests\n\nTOKEN_URL = "https://github.com/login/oauth/access_token"\n\n'
    (repo / "app.py").write_text(f"{head}\ndef exchange():\n{call}")
    assert run("app.py", "--write-baseline", "base.json")[0] == 0
    (repo / "app.py").write_text(f"{head}\ndef exchange():\n{call}{call}")
    assert _pairs(_json()[1]) == [("OA105", 7), ("OA105", 8)]
    code, data = _json("--baseline", "base.json")
    assert code == 1
    assert (_pairs(data), data["baselined"]) == ([("OA105", 8)], 1)


def test_a_line_moved_into_another_function_is_new(repo: Path) -> None:
    assert run("app.py", "--write-baseline", "base.json")[0] == 0
    (repo / "app.py").write_text(APP.replace("def refresh(token)", "def renew(token)"))
    code, data = _json("--baseline", "base.json")
    assert code == 1
    assert _pairs(data) == [("OA105", 12)]


def test_new_findings_in_sarif_are_marked_new(repo: Path) -> None:
    assert run("app.py", "--write-baseline", "base.json")[0] == 0
    (repo / "app.py").write_text(APP.replace("def refresh(token)", "def renew(token)"))
    code, output = run("app.py", "--format", "sarif", "--baseline", "base.json")
    assert code == 1
    results = json.loads(output)["runs"][0]["results"]
    assert [(r["locations"][0]["physicalLocation"]["region"]["startLine"], r["baselineState"])
            for r in results] == [(12, "new")]  # fmt: skip


@pytest.mark.parametrize(
    ("content", "why"),
    [
        ("{not json", "not JSON (Expecting property name enclosed in double quotes: "
                      "line 1 column 2 (char 1))"),
        ('{"findings": []}', 'no "tool": "valetkey"'),
        ('{"tool": "valetkey", "version": 2, "findings": []}', "format version 2, expected 1"),
        ('{"tool": "valetkey", "version": 1, "findings": {}}', '"findings" is not a list'),
        (
            '{"tool": "valetkey", "version": 1, "findings": [{"id": "OA105", "file": "app.py"}]}',
            "finding 1 lacks a string id, file or fingerprint",
        ),
        ('{"tool": "valetkey", "version": 1, "findings": [7]}',
         "finding 1 lacks a string id, file or fingerprint"),
    ],
)  # fmt: skip
def test_a_malformed_baseline_exits_2_with_one_line(repo: Path, content: str, why: str) -> None:
    (repo / "base.json").write_text(content)
    code, output = run("app.py", "--baseline", "base.json")
    assert code == 2
    assert output == (
        f"valetkey audit: base.json is not a valetkey baseline: {why}; "
        "recreate it with `--write-baseline base.json`\n"
    )


def test_a_missing_baseline_exits_2_and_says_how_to_make_one(repo: Path) -> None:
    code, output = run("app.py", "--baseline", "nope.json")
    assert code == 2
    assert output == (
        "valetkey audit: baseline nope.json does not exist; "
        "create it with `--write-baseline nope.json`\n"
    )


def test_baseline_and_write_baseline_together_exit_2(repo: Path) -> None:
    code, output = run("app.py", "--baseline", "a.json", "--write-baseline", "b.json")
    assert (code, output) == (2, "valetkey audit: use --baseline or --write-baseline, not both\n")
    assert not (repo / "b.json").exists()


def test_an_unwritable_baseline_exits_2(repo: Path) -> None:
    code, output = run("app.py", "--write-baseline", "no/such/dir/base.json")
    assert code == 2
    assert output == (
        "valetkey audit: cannot write the baseline no/such/dir/base.json: "
        "No such file or directory\n"
    )


def test_fingerprints_ignore_line_numbers_and_whitespace() -> None:
    before = fingerprinted(audit_source(APP, "app.py").findings, APP)
    moved = "\n\n\n" + APP.replace(SECRET_LINE, SECRET_LINE.replace(" = ", "  =  "))
    after = fingerprinted(audit_source(moved, "app.py").findings, moved)
    assert [f.line for f in after] == [f.line + 3 for f in before]
    assert [f.fingerprint for f in after] == [f.fingerprint for f in before]
    assert all(f.fingerprint.endswith(":0") for f in before)


def test_the_adoption_options_are_documented() -> None:
    doc = (Path(__file__).resolve().parents[2] / "docs" / "audit.md").read_text()
    names = {opt for param in audit.params for opt in getattr(param, "opts", [])}
    for option in ("--baseline", "--write-baseline", "--max-file-size"):
        assert option in names
        assert f"| `{option} " in doc

"""The `valetkey audit` command: formats, exit codes, errors without stack traces."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from valetkey.cli.audit import audit

from .conftest import FIXTURES

BAD = FIXTURES / "oa105" / "bad_authlib_register.py"
LOW_ONLY = FIXTURES / "oa111" / "bad_requests_userinfo.py"
GOOD = FIXTURES / "oa105" / "good_env.py"


def run(*args: str) -> tuple[int, str]:
    outcome = CliRunner().invoke(audit, list(args))
    return outcome.exit_code, outcome.output


def test_clean_file_exits_0() -> None:
    code, output = run(str(GOOD))
    assert code == 0
    assert "0 findings in 1 file(s) scanned." in output


def test_findings_exit_1_and_fail_on_raises_the_bar() -> None:
    assert run(str(BAD))[0] == 1
    assert run(str(LOW_ONLY))[0] == 1
    assert run(str(LOW_ONLY), "--fail-on", "medium")[0] == 0
    assert run(str(BAD), "--fail-on", "high")[0] == 1


def test_json_output_to_file(tmp_path: Path) -> None:
    target = tmp_path / "report.json"
    code, output = run(str(BAD), "--format", "json", "--output", str(target))
    assert code == 1
    assert output == ""
    data = json.loads(target.read_text())
    assert [(f["id"], f["line"]) for f in data["findings"]] == [("OA105", 9)]
    assert data["files_scanned"] == 1


def test_select_ignore_and_checklist_json() -> None:
    assert run(str(BAD), "--ignore", "OA105")[0] == 0
    assert run(str(BAD), "--select", "OA101,OA102")[0] == 0
    _code, output = run(str(BAD), "--format", "json", "--checklist")
    rows = json.loads(output)["checklist"]
    assert rows[0]["items"]["client secret from the environment"] == "fail"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ([], "give at least one file or folder"),
        (["no/such/dir"], "no/such/dir: no such file or directory"),
        (["--select", "OA1999", "."], "unknown check id OA1999"),
        (["--format", "xml", "."], "Invalid value for '--format'"),
    ],
)
def test_usage_errors_exit_2_with_one_clear_line(args: list[str], message: str) -> None:
    code, output = run(*args)
    assert code == 2
    assert message in output
    assert "Traceback" not in output


def test_bad_pyproject_is_a_usage_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "pyproject.toml").write_text("[tool.valetkey]\nexclude = 3\n")
    (tmp_path / "app.py").write_text("x = 1\n")
    monkeypatch.chdir(tmp_path)
    code, output = run("app.py")
    assert code == 2
    assert "[tool.valetkey] exclude = 3 must be a list of strings" in output


def test_help_teaches_with_examples() -> None:
    code, output = run("--help")
    assert code == 0
    assert "valetkey audit --explain OA103" in output
    assert "# valetkey: ignore[OA105]" in output


def _subprocess(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "NO_COLOR": "1"}
    return subprocess.run(
        [sys.executable, "-m", "valetkey", "audit", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env=env,
        timeout=120,
        check=False,
    )


def test_end_to_end_sarif_in_a_subprocess(tmp_path: Path) -> None:
    (tmp_path / "app.py").write_text(BAD.read_text())
    done = _subprocess("app.py", "--format", "sarif", cwd=tmp_path)
    assert done.returncode == 1, done.stderr
    log = json.loads(done.stdout)
    result = log["runs"][0]["results"][0]
    assert result["ruleId"] == "OA105"
    assert result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "app.py"


def test_end_to_end_text_and_broken_file(tmp_path: Path) -> None:
    (tmp_path / "app.py").write_text(BAD.read_text())
    (tmp_path / "broken.py").write_text("def f(:\n")
    done = _subprocess(".", "--no-progress", cwd=tmp_path)
    assert done.returncode == 1
    assert "app.py" in done.stdout
    assert "OA105 client-secret-in-code" in done.stdout
    assert "error broken.py: cannot parse" in done.stdout
    assert "Traceback" not in done.stderr


def test_internal_error_exits_2(monkeypatch: pytest.MonkeyPatch) -> None:
    from valetkey.audit import engine

    def broken(*_args: object) -> engine.FileReport:
        raise RuntimeError("boom")

    monkeypatch.setattr(engine, "audit_source", broken)
    code, output = run(str(GOOD))
    assert code == 2
    assert "internal error (RuntimeError: boom)" in output
    assert "Traceback" not in output

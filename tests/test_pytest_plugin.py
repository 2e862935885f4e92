"""The pytest plugin, through the documented example (run as a user would run it)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

EXAMPLE = Path(__file__).resolve().parent.parent / "docs" / "examples"


def test_documented_example_passes(tmp_path: Path) -> None:
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            "--rootdir",
            str(tmp_path),
            str(EXAMPLE / "test_sign_in_with_sandbox.py"),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 passed" in result.stdout


def test_plugin_is_registered() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "--fixtures", "-q", "-p", "no:cacheprovider"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        cwd=EXAMPLE,
    )
    assert "valetkey_sandbox" in result.stdout
    assert "A fresh valetkey sandbox provider for one test." in result.stdout

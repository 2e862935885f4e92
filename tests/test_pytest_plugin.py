"""The pytest plugin, through the documented example (run as a user would run it)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

EXAMPLE = Path(__file__).resolve().parent.parent / "docs" / "examples"


def _pytest(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """pytest in a child process, as a user's suite runs it."""
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        cwd=cwd,
    )


def test_documented_example_passes(tmp_path: Path) -> None:
    result = _pytest(
        tmp_path, "--rootdir", str(tmp_path), str(EXAMPLE / "test_sign_in_with_sandbox.py")
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


HASHING_CHOICE = """
import pytest


def test_default(valetkey_sandbox):
    assert valetkey_sandbox.strict_hashing is False
    assert "password hashing: weak (--lab weak-password-hash)" in repr(valetkey_sandbox)
    valetkey_sandbox.add_user("carol", "carol-password-123")
    valetkey_sandbox.login_as("carol", "carol-password-123").close()
    assert "weak-password-hash" in valetkey_sandbox.output()


@pytest.mark.valetkey_sandbox(strict_hashing=True)
def test_strict(valetkey_sandbox):
    assert valetkey_sandbox.strict_hashing is True
    assert "password hashing: strict" in repr(valetkey_sandbox)
    valetkey_sandbox.add_user("carol", "carol-password-123")
    valetkey_sandbox.login_as("carol", "carol-password-123").close()
    assert "weak-password-hash" not in valetkey_sandbox.output()


@pytest.mark.valetkey_sandbox(strict_hashing="yes")
def test_bad_option(valetkey_sandbox):
    pass
"""


def test_the_fixture_names_its_weak_hashing_and_a_marker_switches_it_back(tmp_path: Path) -> None:
    (tmp_path / "test_hashing.py").write_text(HASHING_CHOICE)
    result = _pytest(tmp_path, "test_hashing.py")
    out = result.stdout + result.stderr
    assert "2 passed" in out, out
    assert "1 error" in out, out
    assert "strict_hashing=...) takes True or False" in out, out

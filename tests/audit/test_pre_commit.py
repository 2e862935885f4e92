"""The repository's `.pre-commit-hooks.yaml`, run by pre-commit itself (`try-repo`) in a
temporary git repository: pre-commit pip-installs valetkey into its own environment (from
PyPI), then the hook fails on a bad file with its finding and passes a good one."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from .conftest import FIXTURES

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.slow


def test_the_hook_definition_is_what_pre_commit_users_expect() -> None:
    (hook,) = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())
    assert hook["id"] == "valetkey-audit"
    assert (hook["language"], hook["types"]) == ("python", ["python"])
    assert hook["entry"] == "valetkey audit --no-progress"


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str]]:
    assert (ROOT / ".git").exists(), "try-repo needs this checkout to be a git repository"
    repo = tmp_path_factory.mktemp("project")
    (repo / "bad.py").write_text((FIXTURES / "oa105" / "bad_authlib_register.py").read_text())
    (repo / "good.py").write_text((FIXTURES / "oa105" / "good_env.py").read_text())
    env = {
        **os.environ,
        "PRE_COMMIT_HOME": str(tmp_path_factory.mktemp("pre-commit-home")),
        "PRE_COMMIT_COLOR": "never",
        "NO_COLOR": "1",
        "GIT_AUTHOR_NAME": "test",
        "GIT_AUTHOR_EMAIL": "test@example.invalid",
        "GIT_COMMITTER_NAME": "test",
        "GIT_COMMITTER_EMAIL": "test@example.invalid",
    }
    for argv in (["git", "init", "-q"], ["git", "add", "bad.py", "good.py"]):
        subprocess.run(argv, cwd=repo, env=env, check=True, timeout=60)
    return repo, env


def _try_repo(project: tuple[Path, dict[str, str]], name: str) -> subprocess.CompletedProcess[str]:
    repo, env = project
    return subprocess.run(
        [sys.executable, "-m", "pre_commit", "try-repo", str(ROOT), "valetkey-audit",
         "--files", name],
        cwd=repo,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,  # the first run builds valetkey and installs its dependencies
        check=False,
    )  # fmt: skip


def test_the_hook_fails_a_bad_file_with_its_finding(project: tuple[Path, dict[str, str]]) -> None:
    done = _try_repo(project, "bad.py")
    assert done.returncode == 1, done.stdout + done.stderr
    assert "valetkey audit (OAuth 2.0 / OpenID Connect pitfalls)" in done.stdout
    assert "- hook id: valetkey-audit\n- exit code: 1" in done.stdout
    assert "  9:19  OA105 client-secret-in-code (high)" in done.stdout
    assert "1 finding in 1 file(s) scanned." in done.stdout


def test_the_hook_passes_a_good_file(project: tuple[Path, dict[str, str]]) -> None:
    done = _try_repo(project, "good.py")
    assert done.returncode == 0, done.stdout + done.stderr
    passed = [line for line in done.stdout.splitlines() if "valetkey audit (" in line]
    assert len(passed) == 1
    assert passed[0].endswith("Passed")
    assert "OA1" not in done.stdout

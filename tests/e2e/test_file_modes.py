"""M4 and the demo credentials file (issue 15): what the sandbox keeps on disk is private,
also when it already existed with wider modes, and is never written through a symlink."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.sandbox import start_sandbox

CREDS = "demo-credentials.json"


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.lstat().st_mode)


def _database_files(folder: Path) -> list[Path]:
    return [folder / f"valetkey.db{suffix}" for suffix in ("", "-wal", "-shm")]


def test_a_new_data_folder_and_its_files_are_private(tmp_path: Path) -> None:
    folder = tmp_path / "data"
    sandbox = start_sandbox(folder)
    try:
        assert _mode(folder) == 0o700
        for path in [*_database_files(folder), folder / CREDS]:
            assert _mode(path) == 0o600, path
    finally:
        sandbox.stop()


def test_wide_modes_are_tightened_at_start(tmp_path: Path) -> None:
    folder = tmp_path / "data"
    start_sandbox(folder).stop()
    folder.chmod(0o755)
    for path in [*_database_files(folder), folder / CREDS]:
        if path.exists():
            path.chmod(0o666)
    sandbox = start_sandbox(folder)
    try:
        assert _mode(folder) == 0o700
        for path in [*_database_files(folder), folder / CREDS]:
            assert _mode(path) == 0o600, path
        assert "WARNING" not in sandbox.output()
    finally:
        sandbox.stop()
    assert "Traceback" not in sandbox.output()


@pytest.mark.skipif(os.geteuid() != 0, reason="giving the folder to another user needs root")
def test_a_shared_folder_that_is_not_ours_is_named_at_start(tmp_path: Path) -> None:
    folder = tmp_path / "data"
    folder.mkdir(mode=0o755)
    folder.chmod(0o755)
    os.chown(folder, 65534, 65534)
    sandbox = start_sandbox(folder)
    try:
        line = next(x for x in sandbox.output().splitlines() if "not ours to change" in x)
        assert line == (
            f"  WARNING {folder} is readable by others (mode 755) and not ours to change: "
            "it holds private keys; chmod it or use another folder."
        )
        assert _mode(folder) == 0o755
    finally:
        sandbox.stop()


def test_the_credentials_file_is_never_written_through_a_symlink(tmp_path: Path) -> None:
    folder = tmp_path / "data"
    folder.mkdir()
    victim = tmp_path / "victim.txt"
    victim.write_text("keep me")
    victim.chmod(0o644)
    (folder / CREDS).symlink_to(victim)
    done = subprocess.run(
        [sys.executable, "-m", "valetkey", "serve", "--port", "0", "--data-dir", str(folder)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 1
    assert done.stderr.strip().splitlines()[-1] == (
        f"Error: {folder / CREDS} is a symbolic link; the demo credentials are never written "
        "or read through one. Remove it and start again."
    )
    assert "Traceback" not in done.stderr
    assert victim.read_text() == "keep me"
    assert _mode(victim) == 0o644

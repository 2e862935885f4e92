"""PostgreSQL is the `postgres` extra: without psycopg, a PostgreSQL URL gets one clear line."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

# the CLI as a user runs it, in an interpreter where psycopg cannot be imported
WITHOUT_PSYCOPG = (
    "import sys; sys.modules['psycopg'] = None; "
    "from valetkey.cli import main; sys.argv[0] = 'valetkey'; main()"
)
URL = "postgresql://127.0.0.1:5432/test"
MESSAGE = (
    f"Error: cannot open the database {URL}: PostgreSQL needs the psycopg driver, which is "
    "not installed; install valetkey with its postgres extra: "
    "pip install 'valetkey[postgres]'. Check --db / VALETKEY_DB.\n"
)


@pytest.mark.parametrize(
    "args", [("serve", "--port", "0"), ("users", "list")], ids=["serve", "users-list"]
)
def test_postgresql_url_without_the_driver(tmp_path: Path, args: tuple[str, ...]) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("VALETKEY_")}
    env |= {"VALETKEY_DB": URL, "VALETKEY_DATA_DIR": str(tmp_path)}
    result = subprocess.run(
        [sys.executable, "-c", WITHOUT_PSYCOPG, *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env=env,
    )
    assert result.returncode == 1
    assert result.stderr == MESSAGE
    assert result.stdout == ""


def test_sqlite_needs_no_driver_of_its_own(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("VALETKEY_")}
    env |= {"VALETKEY_DB": f"sqlite:///{tmp_path / 'v.db'}"}
    result = subprocess.run(
        [sys.executable, "-c", WITHOUT_PSYCOPG, "users", "list"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env=env,
    )
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    header = ["┃", "username", "┃", "sub", "┃", "claims", "┃"]
    assert result.stdout.splitlines()[1].split() == header

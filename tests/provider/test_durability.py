"""What a commit survives (--durability / VALETKEY_DURABILITY): each class sets the
database's own switch on every connection the store opens, on SQLite and on PostgreSQL."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.postgres import fresh_database
from valetkey.provider.settings import SettingsError, build_settings
from valetkey.provider.store.driver import Database, StoreError
from valetkey.provider.store.open import open_store

# PRAGMA synchronous reads back as a number: 1 NORMAL, 2 FULL (sqlite.org/pragma.html)
SQLITE = {"app-crash": 1, "power-loss": 2}
POSTGRESQL = {"app-crash": "off", "power-loss": "on"}


def test_unset_each_database_keeps_its_default_and_the_environment_sets_it() -> None:
    assert build_settings({}, environ={}).durability == ""
    env = {"VALETKEY_DURABILITY": "power-loss"}
    assert build_settings({}, environ=env).durability == "power-loss"
    assert Database("sqlite://").durability == "app-crash"
    assert Database("postgresql://127.0.0.1:5432/test").durability == "power-loss"


def test_unknown_class_names_key_value_and_choices() -> None:
    with pytest.raises(SettingsError) as caught:
        build_settings({}, environ={"VALETKEY_DURABILITY": "fsync"})
    assert str(caught.value) == (
        "VALETKEY_DURABILITY='fsync': expected one of app-crash, power-loss"
    )
    with pytest.raises(StoreError, match=r"unknown durability 'fsync' \(app-crash or power"):
        Database("sqlite:///x.db", "", "fsync")


@pytest.mark.parametrize("durability", ["app-crash", "power-loss", ""])
def test_sqlite_synchronous_follows_the_class(tmp_path: Path, durability: str) -> None:
    database = Database(f"sqlite:///{tmp_path / 'db.sqlite'}", "", durability)
    conn = database.connect()
    try:
        assert conn.execute("PRAGMA journal_mode").fetchone() == ("wal",)
        expected = SQLITE[durability or "app-crash"]
        assert conn.execute("PRAGMA synchronous").fetchone() == (expected,)
    finally:
        conn.close()
        database.close()


@pytest.mark.postgres
@pytest.mark.parametrize("durability", ["app-crash", "power-loss", ""])
def test_postgresql_synchronous_commit_follows_the_class(durability: str) -> None:
    with fresh_database() as url:
        conn = Database(url, "", durability).connect()
        try:
            with conn.cursor() as cursor:
                cursor.execute("SHOW synchronous_commit")
                assert cursor.fetchone() == (POSTGRESQL[durability or "power-loss"],)
        finally:
            conn.close()


def test_serve_rejects_an_unknown_class_with_its_choices(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "valetkey", "serve", "--port", "0", "--durability", "disk"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        cwd=tmp_path,
    )
    assert result.returncode == 2
    assert "Invalid value for '--durability': 'disk' is not one of 'app-crash', 'power-loss'" in (
        result.stderr
    )


def test_the_store_opened_from_settings_carries_the_class(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'db.sqlite'}"
    store = open_store(build_settings({"db": db, "durability": "power-loss"}, environ={}))
    try:
        assert store.database.durability == "power-loss"
    finally:
        store.close()

"""Fixtures of the store's tests."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.postgres import fresh_database
from valetkey.oauth.client_metadata import client_metadata
from valetkey.provider.settings import build_settings
from valetkey.provider.store.open import open_store
from valetkey.provider.store.queries import Store
from valetkey.provider.store.records import Client


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    """A migrated store on a fresh SQLite file, and again on a fresh PostgreSQL database."""
    if request.param == "sqlite":
        yield open_store(build_settings({"db": f"sqlite:///{tmp_path / 'db.sqlite'}"}, environ={}))
        return
    with fresh_database() as url:
        opened = open_store(build_settings({"db": url}, environ={}))
        yield opened
        opened.close()


_SHAPE = re.compile(r"(WITH w0 AS \()?(INSERT INTO \w+|UPDATE \w+|DELETE FROM \w+|\w+)")


class Recorder:
    """A DB-API connection that records every statement and commit sent through it."""

    def __init__(self, conn: Any, sent: list[str]) -> None:
        self._conn, self._sent = conn, sent

    def cursor(self) -> Any:
        return RecordingCursor(self._conn.cursor(), self._sent)

    def commit(self) -> None:
        if self._conn.pgconn.transaction_status != 0:  # psycopg: 0 is idle, no transaction
            self._sent.append("COMMIT")
        self._conn.commit()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._conn, name)


class RecordingCursor:
    def __init__(self, cursor: Any, sent: list[str]) -> None:
        self._cursor, self._sent = cursor, sent

    def execute(self, sql: str, params: Any = None) -> Any:
        self._sent.append(_SHAPE.match(sql).group(0))  # type: ignore[union-attr]
        return self._cursor.execute(sql, params)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._cursor, name)


@pytest.fixture
def pg_store() -> Iterator[tuple[Store, list[str]]]:
    """A migrated store on a fresh PostgreSQL database with client c1, and the list of every
    statement (its first words) and commit it sends from then on."""
    with fresh_database() as url:
        store = open_store(build_settings({"db": url}, environ={}))
        sent: list[str] = []
        connect = store.database.connect
        store.database.connect = lambda: Recorder(connect(), sent)  # type: ignore[method-assign]
        _client(store)
        sent.clear()
        yield store, sent
        store.close()


def _client(store: Store) -> None:
    metadata = client_metadata(
        client_id="c1", redirect_uris=("http://127.0.0.1/cb",), scope="openid"
    )
    store.add_client(Client.registered(metadata, "0" * 64), time.time())

"""The database as DB-API connections: SQLite through `sqlite3`, PostgreSQL through psycopg 3.

A running sandbox talks to its database through this module only, in plain SQL that both
databases run (`:name` parameters, rewritten once to psycopg's `%(name)s`). SQLAlchemy and
Alembic are for the schema: they are imported only when a migration is due (`engine.py`),
which keeps start-up and memory small.
"""

from __future__ import annotations

import itertools
import re
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

PARAMETER = re.compile(r"(?<![:\w]):([A-Za-z_]\w*)")  # a :name parameter
_memory_ids = itertools.count(1)

# every store call is bounded: waits for a lock, statements, connecting (then StoreError: 503)
BUSY_TIMEOUT_MS = 5000  # SQLite: how long a write waits for another writer's lock
LOCK_TIMEOUT_MS = 5000  # PostgreSQL: how long a statement waits for a lock
STATEMENT_TIMEOUT_MS = 10000  # PostgreSQL: how long one statement may run
CONNECT_TIMEOUT_S = 5  # PostgreSQL: how long opening a connection may take

# What a commit survives, one setting for either database. "app-crash": valetkey killed at
# any point loses nothing it acknowledged; a crash of the machine (or of the PostgreSQL
# server) can lose the last commits, and corrupts nothing. SQLite: WAL with synchronous=NORMAL
# (sqlite.org/pragma.html#pragma_synchronous). PostgreSQL: synchronous_commit=off, so the
# server writes the WAL to disk within 3 x wal_writer_delay (0.6 s by default) instead of
# before answering COMMIT (its manual, "Asynchronous Commit"). "power-loss": every commit is
# on disk before valetkey answers: SQLite synchronous=FULL, PostgreSQL synchronous_commit=on.
# Unset, each database keeps what valetkey always gave it (DEFAULT_DURABILITY): on
# PostgreSQL the stronger class also measured the faster one for token requests
# (bench/README.md, "Durability classes").
DURABILITY = ("app-crash", "power-loss")
_SQLITE_SYNCHRONOUS = {"app-crash": "NORMAL", "power-loss": "FULL"}
_PG_SYNCHRONOUS_COMMIT = {"app-crash": "off", "power-loss": "on"}
DEFAULT_DURABILITY = {"sqlite": "app-crash", "postgresql": "power-loss"}


class StoreError(Exception):
    """A query failed in the database: unreachable, restarting, locked for too long.
    `disconnected` says the connection is gone (a new one is opened next time)."""

    def __init__(self, message: str, *, disconnected: bool = False) -> None:
        super().__init__(message)
        self.disconnected = disconnected


def _sqlite_target(url: str) -> tuple[str, bool]:
    """The sqlite3.connect target of a sqlite:// URL, and whether it is in memory."""
    rest = url.split("://", 1)[1]
    path = rest[1:] if rest.startswith("/") else rest
    path = path.split("?", 1)[0]
    if path in ("", ":memory:"):
        # one database shared by this process's connections, as long as one stays open
        return f"file:valetkey-memory-{next(_memory_ids)}?mode=memory&cache=shared", True
    return path, False


@dataclass
class Database:
    """Where the store lives: a sqlite:/// or postgresql:// URL (SQLAlchemy's spelling, with
    or without +psycopg), for a tenant on PostgreSQL the schema that holds its tables, and
    what its commits survive (one of DURABILITY; empty: the database's DEFAULT_DURABILITY)."""

    url: str
    schema: str = ""
    durability: str = ""
    dialect: str = field(init=False)
    _target: str = field(init=False, default="")
    _keeper: sqlite3.Connection | None = field(init=False, default=None, repr=False)
    _sql: dict[str, str] = field(init=False, default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        scheme = self.url.split("://", 1)[0].split("+", 1)[0]
        if scheme not in ("sqlite", "postgresql", "postgres"):
            raise StoreError(f"unsupported database URL scheme {scheme!r} (sqlite or postgresql)")
        self.dialect = "sqlite" if scheme == "sqlite" else "postgresql"
        self.durability = self.durability or DEFAULT_DURABILITY[self.dialect]
        if self.durability not in DURABILITY:
            choices = " or ".join(DURABILITY)
            raise StoreError(f"unknown durability {self.durability!r} ({choices})")
        if self.dialect == "postgresql":
            _require_psycopg()
        if self.dialect == "sqlite":
            self._target, in_memory = _sqlite_target(self.url)
            if not in_memory and self._target:
                Path(self._target).parent.mkdir(parents=True, exist_ok=True)
            if in_memory:
                self._keeper = self.connect()

    @property
    def shown(self) -> str:
        """The URL without a password, for messages."""
        return self.url.split("@")[-1] if "@" in self.url else self.url

    @property
    def error(self) -> type[Exception]:
        if self.dialect == "sqlite":
            return sqlite3.Error
        import psycopg

        return psycopg.Error

    def sql(self, text: str) -> str:
        """`text` with its :name parameters in this driver's style (cached)."""
        found = self._sql.get(text)
        if found is None:
            found = text if self.dialect == "sqlite" else PARAMETER.sub(r"%(\1)s", text)
            self._sql[text] = found
        return found

    def connect(self) -> Any:
        """A new DB-API connection; driver errors come out as StoreError."""
        try:
            return self._connect_sqlite() if self.dialect == "sqlite" else self._connect_pg()
        except StoreError:
            raise
        except Exception as exc:
            if isinstance(exc, self.error):
                lines = str(exc).strip().splitlines() or [type(exc).__name__]
                raise StoreError(lines[0], disconnected=True) from exc
            raise

    def _connect_sqlite(self) -> sqlite3.Connection:
        uri = self._target.startswith("file:")
        conn = sqlite3.connect(
            self._target, check_same_thread=False, uri=uri, timeout=BUSY_TIMEOUT_MS / 1000
        )
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute(f"PRAGMA synchronous={_SQLITE_SYNCHRONOUS[self.durability]}")
        conn.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")  # a lock held elsewhere: 503
        conn.execute("PRAGMA foreign_keys=ON")
        return conn

    def _connect_pg(self) -> Any:
        import psycopg

        conninfo = "postgresql://" + self.url.split("://", 1)[1]
        settings = [
            f"-clock_timeout={LOCK_TIMEOUT_MS}",
            f"-cstatement_timeout={STATEMENT_TIMEOUT_MS}",
            f"-csynchronous_commit={_PG_SYNCHRONOUS_COMMIT[self.durability]}",
        ]
        if self.schema:
            settings.append(f"-csearch_path={self.schema}")
        conn = psycopg.connect(
            conninfo,
            autocommit=True,
            connect_timeout=CONNECT_TIMEOUT_S,
            options=" ".join(settings),
        )
        if self.schema:
            with conn.cursor() as cursor:
                cursor.execute(f'CREATE SCHEMA IF NOT EXISTS "{self.schema}"')
        return conn

    def is_disconnect(self, conn: Any) -> bool:
        """After an error: is this connection unusable?"""
        if self.dialect == "sqlite":
            return False
        return bool(conn.closed or conn.broken)

    def sqlalchemy_url(self) -> str:
        """The URL for SQLAlchemy (migrations): psycopg 3 as PostgreSQL's driver; for SQLite
        the connections come from `connect` (same file or shared memory, same pragmas)."""
        if self.dialect == "postgresql":
            return "postgresql+psycopg://" + self.url.split("://", 1)[1]
        return "sqlite://"

    def close(self) -> None:
        if self._keeper is not None:
            self._keeper.close()
            self._keeper = None


def _require_psycopg() -> None:
    """PostgreSQL is an extra: without its driver, say how to add it (no traceback)."""
    try:
        import psycopg  # noqa: F401
    except ImportError:
        raise StoreError(
            "PostgreSQL needs the psycopg driver, which is not installed; "
            "install valetkey with its postgres extra: pip install 'valetkey[postgres]'"
        ) from None

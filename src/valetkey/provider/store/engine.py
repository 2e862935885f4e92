"""Bring a database's schema to the newest Alembic revision.

The revision is read with a plain query; SQLAlchemy and Alembic are imported only when a
migration is due, so a database already at `HEAD_REVISION` starts without them. SQLite
runs in WAL mode with a busy timeout so that several processes (and the admin commands) can
share one file (see `driver.py`).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from valetkey.provider.store.driver import Database, StoreError

if TYPE_CHECKING:
    from sqlalchemy import Engine

HEAD_REVISION = "0010"  # tests check that this is Alembic's head
MIGRATIONS = Path(__file__).with_name("migrations")


def open_engine(database: Database) -> Engine:
    """A SQLAlchemy engine on the same database (and, for SQLite, the same connection
    settings): for migrations and for tests that look under the store."""
    from sqlalchemy import create_engine

    if database.dialect == "sqlite":
        return create_engine(database.sqlalchemy_url(), creator=database.connect)
    connect_args = {"options": f"-csearch_path={database.schema}"} if database.schema else {}
    return create_engine(
        database.sqlalchemy_url(),
        pool_size=10,
        max_overflow=20,
        pool_pre_ping=True,
        connect_args=connect_args,
    )


def current_revision(database: Database) -> str | None:
    """The schema's Alembic revision, or None for a database without the schema."""
    conn = database.connect()
    try:
        cursor = conn.cursor()
        cursor.execute("SELECT version_num FROM alembic_version")
        row = cursor.fetchone()
        return None if row is None else str(row[0])
    except database.error:
        return None  # no alembic_version table yet
    finally:
        conn.close()


def migrate(database: Database) -> bool:
    """Upgrade the schema to head; True when a migration ran."""
    if current_revision(database) == HEAD_REVISION:
        return False
    from alembic import command
    from alembic.config import Config
    from sqlalchemy.exc import SQLAlchemyError

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    engine = open_engine(database)
    try:
        with engine.begin() as conn:
            config.attributes["connection"] = conn
            command.upgrade(config, "head")
    except SQLAlchemyError as exc:
        orig = getattr(exc, "orig", None) or exc
        raise StoreError(str(orig).strip().splitlines()[0], disconnected=True) from exc
    finally:
        engine.dispose()
    return True

"""A database as an older valetkey left it: migrated up to a revision, rows inserted by SQL."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any


def database_at(url: str, revision: str, sql: str, rows: Sequence[Mapping[str, Any]]) -> None:
    """Migrate the database at `url` to `revision`, then run `sql` once for each row."""
    from alembic import command
    from alembic.config import Config
    from sqlalchemy import text

    from valetkey.provider.store.driver import Database
    from valetkey.provider.store.engine import MIGRATIONS, open_engine

    database = Database(url, "")
    engine = open_engine(database)
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as conn:
        config.attributes["connection"] = conn
        command.upgrade(config, revision)
        for row in rows:
            conn.execute(text(sql), dict(row))
    engine.dispose()
    database.close()

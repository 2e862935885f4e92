"""Open the store a settings object names, migrating its schema first."""

from __future__ import annotations

from pathlib import PurePosixPath

from valetkey.provider.settings import Settings
from valetkey.provider.store.driver import Database, StoreError
from valetkey.provider.store.engine import migrate
from valetkey.provider.store.queries import Store


class StoreUnavailable(RuntimeError):
    """The database cannot be opened; the message says which and why, without a password."""


def tenant_database(settings: Settings, tenant: str) -> tuple[str, str]:
    """(URL, schema) of a tenant's store: a schema of its own on PostgreSQL, a file of its
    own on SQLite."""
    url = settings.database_url
    if not tenant:
        return url, ""
    if url.startswith("postgresql"):
        return url, f"tenant_{tenant.replace('-', '_')}"
    if settings.db:
        return _sqlite_sibling(url, tenant), ""
    return f"sqlite:///{settings.data_dir / 'tenants' / f'{tenant}.db'}", ""


def _sqlite_sibling(url: str, tenant: str) -> str:
    """FILE-TENANT.EXT next to the main database file (a dot in a folder name stays in the
    folder); an in-memory database gets an in-memory database of its own."""
    scheme, rest = url.split("://", 1)
    target, question, query = rest.partition("?")
    if target.lstrip("/") in ("", ":memory:"):
        return url  # each Database opens a separate in-memory database
    path = PurePosixPath(target)
    name = f"{path.stem}-{tenant}{path.suffix}"
    return f"{scheme}://{path.with_name(name)}{question}{query}"


def open_store(settings: Settings, tenant: str = "") -> Store:
    url, schema = tenant_database(settings, tenant)
    database = None
    try:
        database = Database(url, schema, settings.durability)
        migrate(database)
    except StoreError as exc:
        shown = database.shown if database else (url.split("@")[-1] if "@" in url else url)
        raise StoreUnavailable(f"cannot open the database {shown}: {exc}") from None
    return Store(database)

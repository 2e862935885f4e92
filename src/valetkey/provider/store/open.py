"""Open the store a settings object names, migrating its schema first."""

from __future__ import annotations

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
        stem, dot, ext = url.rpartition(".")
        return (f"{stem}-{tenant}.{ext}" if dot else f"{url}-{tenant}"), ""
    return f"sqlite:///{settings.data_dir / 'tenants' / f'{tenant}.db'}", ""


def open_store(settings: Settings, tenant: str = "") -> Store:
    url, schema = tenant_database(settings, tenant)
    database = None
    try:
        database = Database(url, schema)
        migrate(database)
    except StoreError as exc:
        shown = database.shown if database else (url.split("@")[-1] if "@" in url else url)
        raise StoreUnavailable(f"cannot open the database {shown}: {exc}") from None
    return Store(database)

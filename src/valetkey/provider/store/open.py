"""Open the store a settings object names, migrating its schema first."""

from __future__ import annotations

from sqlalchemy.exc import OperationalError

from valetkey.provider.settings import Settings
from valetkey.provider.store.engine import migrate, open_engine
from valetkey.provider.store.queries import Store


class StoreUnavailable(RuntimeError):
    """The database cannot be opened; the message says which and why, without a password."""


def open_store(settings: Settings) -> Store:
    url = settings.database_url
    try:
        engine = open_engine(url)
        migrate(engine)
    except OperationalError as exc:
        shown = url.split("@")[-1] if "@" in url else url
        reason = str(exc.orig).strip().splitlines()[0] if exc.orig else "unknown reason"
        raise StoreUnavailable(f"cannot open the database {shown}: {reason}") from None
    return Store(engine)

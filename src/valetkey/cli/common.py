"""Options and helpers shared by the commands that work on the sandbox's database."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import click

from valetkey.provider.file_modes import private_umask
from valetkey.provider.settings import Settings, SettingsError, build_settings
from valetkey.provider.store.open import StoreUnavailable, open_store
from valetkey.provider.store.queries import Store

F = TypeVar("F", bound=Callable[..., Any])


def database_options(func: F) -> F:
    func = click.option(
        "--data-dir",
        type=click.Path(file_okay=False),
        default=None,
        help="Folder for the default SQLite database  [env VALETKEY_DATA_DIR; default ./.valetkey]",
    )(func)
    func = click.option(
        "--db",
        default=None,
        metavar="URL",
        help="SQLAlchemy URL: sqlite:///FILE or postgresql://...  [env VALETKEY_DB]",
    )(func)
    return func


def load_settings(**overrides: Any) -> Settings:
    """Settings from the environment and the given flags; a bad value exits 2 with a message."""
    try:
        return build_settings({k: None if v is None else str(v) for k, v in overrides.items()})
    except SettingsError as exc:
        raise click.UsageError(str(exc)) from None


def store_for(settings: Settings) -> Store:
    private_umask()  # a database file this command creates is for its user only
    try:
        return open_store(settings)
    except StoreUnavailable as exc:
        raise click.ClickException(f"{exc}. Check --db / VALETKEY_DB.") from None

"""Fixtures of the store's tests."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.postgres import fresh_database
from valetkey.provider.settings import build_settings
from valetkey.provider.store.open import open_store
from valetkey.provider.store.queries import Store


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

"""Fixtures of the end-to-end tests."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from tests.support.sandbox import Sandbox


@pytest.fixture
def admin(sandbox: Sandbox) -> Iterator[httpx.Client]:
    """A client of the module's sandbox's admin API, with its token."""
    with httpx.Client(
        base_url=sandbox.issuer + "/admin",
        timeout=10,
        headers={"authorization": f"Bearer {sandbox.admin_token}"},
    ) as client:
        yield client

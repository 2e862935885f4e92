"""A pytest plugin (installed with valetkey): a real sandbox provider for your tests.

    def test_sign_in(valetkey_sandbox):
        client = valetkey_sandbox.add_client("my-app", ["http://127.0.0.1:5000/callback"])
        valetkey_sandbox.add_user("carol", "carol-password", name="Carol")
        ...

The `valetkey_sandbox` fixture starts `valetkey serve` on a free loopback port with a fresh
SQLite database in the test's temporary folder, and stops it afterwards by PID. It is a
`valetkey.sandbox.Sandbox`: the plugin uses only that public facade (docs/pytest.md).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from valetkey.sandbox import DEFAULT_SCOPES, RegisteredClient, Sandbox, start

__all__ = ["DEFAULT_SCOPES", "RegisteredClient", "SandboxFixture", "valetkey_sandbox"]

SandboxFixture = Sandbox  # the fixture's type, by its earlier name


@pytest.fixture
def valetkey_sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sandbox]:
    """A fresh valetkey sandbox provider for one test."""
    sandbox = start(tmp_path_factory.mktemp("valetkey-sandbox"), "--no-demo-data")
    try:
        yield sandbox
    finally:
        sandbox.stop()

"""A pytest plugin (installed with valetkey): a real sandbox provider for your tests.

    def test_sign_in(valetkey_sandbox):
        client = valetkey_sandbox.add_client("my-app", ["http://127.0.0.1:5000/callback"])
        valetkey_sandbox.add_user("carol", "carol-password", name="Carol")
        ...

The `valetkey_sandbox` fixture starts `valetkey serve` on a free loopback port with a fresh
SQLite database in the test's temporary folder, and stops it afterwards by PID. It is a
`valetkey.sandbox.Sandbox`: the plugin uses only that public facade (docs/pytest.md).

For speed the fixture's sandbox hashes passwords weakly (`--lab weak-password-hash`; its
repr says so). A test that needs the default hashing asks for it:

    @pytest.mark.valetkey_sandbox(strict_hashing=True)
    def test_login_cost(valetkey_sandbox): ...
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from valetkey.sandbox import DEFAULT_SCOPES, RegisteredClient, Sandbox, start

__all__ = ["DEFAULT_SCOPES", "RegisteredClient", "SandboxFixture", "valetkey_sandbox"]

SandboxFixture = Sandbox  # the fixture's type, by its earlier name


MARKER = "valetkey_sandbox"


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        f"{MARKER}(strict_hashing=False): options of the valetkey_sandbox fixture; "
        "strict_hashing=True keeps valetkey serve's default password hashing",
    )


def _strict_hashing(request: pytest.FixtureRequest) -> bool:
    marker = request.node.get_closest_marker(MARKER)
    value = marker.kwargs.get("strict_hashing", False) if marker else False
    if not isinstance(value, bool):
        raise pytest.UsageError(f"{MARKER}(strict_hashing=...) takes True or False")
    return value


@pytest.fixture
def valetkey_sandbox(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Sandbox]:
    """A fresh valetkey sandbox provider for one test.

    Its passwords are hashed weakly for speed (--lab weak-password-hash);
    @pytest.mark.valetkey_sandbox(strict_hashing=True) keeps the default hashing."""
    sandbox = start(
        tmp_path_factory.mktemp("valetkey-sandbox"),
        "--no-demo-data",
        strict_hashing=_strict_hashing(request),
    )
    try:
        yield sandbox
    finally:
        sandbox.stop()

"""Shared fixtures: a real sandbox process per test module, and a fresh browser per test."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.postgres import fresh_database
from tests.support.sandbox import Sandbox, demo_browser, start_sandbox
from valetkey.useragent.agent import UserAgent

ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"


@pytest.fixture(
    scope="module", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]
)
def sandbox(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Sandbox]:
    """A real sandbox process, on SQLite and again on PostgreSQL (every test that uses it
    runs against both stores)."""
    if request.param == "sqlite":
        running = start_sandbox(tmp_path_factory.mktemp("sandbox"))
        yield running
        running.stop()
        return
    with fresh_database() as url:
        running = start_sandbox(tmp_path_factory.mktemp("sandbox-pg"), db=url)
        yield running
        running.stop()
        _assert_no_secrets([url])  # before the database is dropped


@pytest.fixture(scope="module")
def probe_sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sandbox]:
    """A real sandbox process in probe mode (`--probe-mode`: the /probe API is on)."""
    running = start_sandbox(tmp_path_factory.mktemp("probe-mode"), "--probe-mode")
    yield running
    running.stop()


@pytest.fixture
def agent(sandbox: Sandbox) -> Iterator[UserAgent]:
    browser = demo_browser(sandbox.issuer)
    yield browser
    browser.close()


@pytest.fixture(scope="session")
def artifacts() -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS


MERMAID_DIR = Path(__file__).resolve().parent.parent / ".cache" / "mermaid"


@pytest.fixture(scope="session")
def mermaid_js() -> Path:
    """Mermaid's own library, installed by name from the npm registry (cached in .cache/)."""
    import subprocess

    script = MERMAID_DIR / "node_modules" / "mermaid" / "dist" / "mermaid.min.js"
    if not script.exists():
        MERMAID_DIR.mkdir(parents=True, exist_ok=True)
        subprocess.run(
            [
                "npm",
                "install",
                "--no-audit",
                "--no-fund",
                "--loglevel=error",
                "--prefix",
                str(MERMAID_DIR),
                "mermaid@11",
            ],
            check=True,
            timeout=600,
        )
    return script


@pytest.fixture(scope="session", autouse=True)
def flow_records_hold_no_secrets() -> Iterator[None]:
    """Runs after every test: scans every flow record the suite's sandboxes stored."""
    from tests.support.sandbox import STARTED

    yield
    _assert_no_secrets(STARTED)


def _assert_no_secrets(databases: list[str]) -> None:
    from tests.support.record_scan import scan
    from tests.support.sandbox import SECRETS

    problems = scan(databases, {s for s in SECRETS if len(s) >= 8})
    assert not problems, "\n".join(problems[:20])


@pytest.fixture(
    scope="module", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]
)
def store_url(request: pytest.FixtureRequest) -> Iterator[str | None]:
    """For tests that start sandboxes of their own: None (SQLite in the data folder), then a
    fresh PostgreSQL database."""
    if request.param == "sqlite":
        yield None
        return
    with fresh_database() as url:
        yield url

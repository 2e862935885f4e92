"""M5 (issue 15): a database lock or a lost connection never freezes the server. Store work
runs off the event loop and every store call is bounded, so discovery, the JWKS and static
files keep answering, store-bound requests get a 503, and the server recovers."""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import httpx
import psycopg
import pytest

from tests.support.postgres import fresh_database
from tests.support.sandbox import Sandbox, demo_browser, start_sandbox
from valetkey.provider.store.driver import BUSY_TIMEOUT_MS, LOCK_TIMEOUT_MS

QUICK = ("/.well-known/openid-configuration", "/jwks.json", "/static/valetkey.css")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, store_url: str | None) -> Iterator[Sandbox]:
    running = start_sandbox(tmp_path_factory.mktemp("outages"), db=store_url)
    yield running
    running.stop()
    assert "Traceback" not in running.output()


@contextmanager
def _sqlite_lock(db: str) -> Iterator[None]:
    """Another connection holds SQLite's write lock."""
    conn = sqlite3.connect(db.split("///", 1)[1], isolation_level=None)
    conn.execute("BEGIN EXCLUSIVE")
    try:
        yield
    finally:
        conn.execute("ROLLBACK")
        conn.close()


@contextmanager
def _pg_lock(db: str) -> Iterator[None]:
    """Another connection holds an exclusive lock on the pending requests' table."""
    with psycopg.connect(db) as conn:
        conn.execute("LOCK TABLE auth_requests IN ACCESS EXCLUSIVE MODE")
        yield
        conn.rollback()


def _started(response: httpx.Response) -> bool:
    """The authorization request was stored: the browser is sent to the login page."""
    return response.status_code == 302 and response.headers["location"].startswith("/login?")


def _authorize(server: Sandbox) -> httpx.Response:
    agent = demo_browser(server.issuer)
    try:
        return agent.authorize(agent.request_params().params)
    finally:
        agent.close()


def _slowest_quick_answer(server: Sandbox, while_: Callable[[], bool]) -> float:
    slowest = 0.0
    with httpx.Client(base_url=server.url, timeout=30) as client:
        while while_():
            for path in QUICK:
                started = time.perf_counter()
                assert client.get(path).status_code == 200, path
                slowest = max(slowest, time.perf_counter() - started)
    return slowest


@pytest.mark.slow
def test_a_held_lock_freezes_nothing_and_gives_503(server: Sandbox) -> None:
    assert _started(_authorize(server))
    lock = _sqlite_lock if server.db.startswith("sqlite") else _pg_lock
    bound = (BUSY_TIMEOUT_MS if server.db.startswith("sqlite") else LOCK_TIMEOUT_MS) / 1000
    answers: list[tuple[httpx.Response, float]] = []

    def blocked() -> None:
        started = time.perf_counter()
        answers.append((_authorize(server), time.perf_counter() - started))

    with lock(server.db):
        writers = [threading.Thread(target=blocked) for _ in range(3)]
        for writer in writers:
            writer.start()
        slowest = _slowest_quick_answer(server, lambda: any(w.is_alive() for w in writers))
    assert slowest < 1.0  # generous: each takes milliseconds, the loop is never held
    for response, seconds in answers:
        assert response.status_code == 503
        assert response.headers["content-type"].startswith("text/html")
        assert "The store is unavailable; retry shortly." in response.text
        assert bound - 0.5 < seconds < bound + 5
    assert _started(_authorize(server))  # the lock is gone: served again
    assert "database unavailable at GET /authorize" in server.output()


@pytest.mark.postgres
def test_connections_killed_by_postgres_give_503_then_recover(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    with fresh_database() as url:
        server = start_sandbox(tmp_path_factory.mktemp("killed"), db=url)
        try:
            assert _started(_authorize(server))
            with psycopg.connect(url, autocommit=True) as conn:
                killed = conn.execute(
                    "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
                    " WHERE datname = current_database() AND pid <> pg_backend_pid()"
                ).fetchone()
            assert killed is not None
            assert killed[0] >= 1
            statuses = [_authorize(server).status_code for _ in range(12)]
            assert set(statuses) <= {302, 503}, statuses
            assert statuses[0] == 503  # the connection it had is gone: refused, not a 500
            assert statuses[-4:] == [302] * 4  # and new connections serve again
            time.sleep(6)  # the background key refresh meets its dead connection: one line
            assert _started(_authorize(server))
        finally:
            server.stop()
    assert "database unavailable at GET /authorize" in server.output()
    assert "Traceback" not in server.output()


def test_no_store_call_on_the_loop_for_static_answers(server: Sandbox) -> None:
    """Discovery, the JWKS and the stylesheet answer while the store is locked, at once."""
    lock = _sqlite_lock if server.db.startswith("sqlite") else _pg_lock
    with lock(server.db), httpx.Client(base_url=server.url, timeout=2) as client:
        for path in QUICK:
            assert client.get(path).status_code == 200

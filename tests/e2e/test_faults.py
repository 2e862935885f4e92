"""Faults under load: the server killed with SIGKILL, PostgreSQL restarted. Nothing a client
was told is lost, the database stays intact, and flows resume. Loopback only, bounded."""

from __future__ import annotations

import os
import signal
import socket
import sqlite3
import subprocess
import threading
import time
from pathlib import Path

import httpx
import pytest

from tests.support.postgres import fresh_database
from tests.support.sandbox import Sandbox, demo_browser, start_sandbox
from valetkey.useragent.agent import AgentError

pytestmark = pytest.mark.slow


class Load:
    """Complete flows in a loop on two threads; keeps every token the server handed out."""

    def __init__(self, sandbox: Sandbox) -> None:
        self.sandbox = sandbox
        self.acknowledged: list[str] = []
        self.failures = 0
        self.stop = threading.Event()
        self.threads = [threading.Thread(target=self._run, daemon=True) for _ in range(2)]

    def __enter__(self) -> Load:
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        for thread in self.threads:
            thread.join(timeout=30)

    def _run(self) -> None:
        deadline = time.monotonic() + 60
        while not self.stop.is_set() and time.monotonic() < deadline:
            try:
                self._flow()
            except (httpx.HTTPError, AgentError, AssertionError, KeyError):  # 503: retry
                self.failures += 1
                time.sleep(0.05)

    def _flow(self) -> None:
        agent = demo_browser(self.sandbox.issuer)
        try:
            code, auth = agent.code("alice", self.sandbox.password("alice"))
        finally:
            agent.close()
        answer = self.sandbox.redeem(code, auth.verifier)
        if answer.status_code == 200:
            self.acknowledged.append(answer.json()["access_token"])


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _all_active(sandbox: Sandbox, tokens: list[str]) -> list[str]:
    inactive = []
    for token in tokens:
        answer = httpx.post(
            sandbox.url + "/introspect",
            data={"token": token},
            auth=("photo-printer", sandbox.secret),
            timeout=10,
        )
        if answer.json().get("active") is not True:
            inactive.append(token[:12])
    return inactive


def _wait_for_a_flow(sandbox: Sandbox, seconds: float = 15) -> None:
    deadline = time.monotonic() + seconds
    while True:
        with Load(sandbox) as load:
            time.sleep(0.5)
        if load.acknowledged or time.monotonic() > deadline:
            break
    assert load.acknowledged, "flows did not resume"


def _kill_under_load(sandbox: Sandbox) -> list[str]:
    """SIGKILL the server while two threads run flows; the tokens it had acknowledged."""
    with Load(sandbox) as load:
        time.sleep(1.5)
        os.kill(sandbox.proc.pid, signal.SIGKILL)
        sandbox.proc.wait()
        time.sleep(0.3)
    assert len(load.acknowledged) >= 3, "the load did not get going"
    return load.acknowledged


def _restart_and_check(tmp_path: Path, port: str, old: Sandbox, tokens: list[str]) -> None:
    restarted = start_sandbox(tmp_path, "--port", port, db=old.db)
    restarted.creds = old.creds
    try:
        assert _all_active(restarted, tokens) == []
        _wait_for_a_flow(restarted)
    finally:
        restarted.stop()


def test_sigkill_under_load_loses_nothing(tmp_path: Path) -> None:
    port = str(_free_port())
    sandbox = start_sandbox(tmp_path, "--port", port)
    acknowledged = _kill_under_load(sandbox)
    with sqlite3.connect(tmp_path / "valetkey.db") as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    _restart_and_check(tmp_path, port, sandbox, acknowledged)


@pytest.mark.postgres
def test_sigkill_under_load_loses_nothing_on_postgresql(tmp_path: Path) -> None:
    """Even the weaker durability class on PostgreSQL (app-crash: synchronous_commit=off)
    loses no acknowledged token when valetkey itself dies: the server holds every commit."""
    port = str(_free_port())
    with fresh_database() as url:
        sandbox = start_sandbox(tmp_path, "--port", port, "--durability", "app-crash", db=url)
        acknowledged = _kill_under_load(sandbox)
        _restart_and_check(tmp_path, port, sandbox, acknowledged)


@pytest.mark.postgres
def test_postgresql_restart_under_load(tmp_path: Path) -> None:
    version = sorted(os.listdir("/etc/postgresql"))[-1]
    with fresh_database() as url:
        sandbox = start_sandbox(tmp_path, db=url)
        try:
            with Load(sandbox) as load:
                time.sleep(1.0)
                before = len(load.acknowledged)
                subprocess.run(
                    ["pg_ctlcluster", "--skip-systemctl-redirect", version, "main", "restart"],
                    check=True,
                    timeout=60,
                    capture_output=True,
                )
                time.sleep(1.5)
            assert before >= 2, "the load did not get going"
            assert _all_active(sandbox, load.acknowledged) == []
            _wait_for_a_flow(sandbox)
            assert "Traceback" not in sandbox.output()
        finally:
            sandbox.stop()

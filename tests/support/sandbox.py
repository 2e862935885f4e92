"""Start a real `valetkey serve` process on a free loopback port and stop it by PID."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from valetkey.provider.passwords import Passwords
from valetkey.provider.settings import build_settings
from valetkey.provider.store.open import open_store
from valetkey.provider.store.queries import Store
from valetkey.provider.store.records import Client
from valetkey.provider.tokens import digest

START_TIMEOUT = 20.0


@dataclass
class Sandbox:
    issuer: str
    data_dir: Path
    proc: subprocess.Popen[bytes]
    db: str
    log: Path
    creds: dict[str, Any] = field(default_factory=dict)

    @property
    def secret(self) -> str:
        return str(self.creds["client_secret"])

    def password(self, user: str) -> str:
        return str(self.creds["users"][user])

    def store(self) -> Store:
        return open_store(build_settings({"db": self.db}, environ={}))

    def add_user(self, username: str, password: str, **claims: object) -> None:
        self.store().add_user(
            username, Passwords(weak=True).hash(password), dict(claims), time.time()
        )

    def add_client(
        self,
        client_id: str,
        secret: str | None,
        redirect_uris: tuple[str, ...],
        scopes: str = "openid profile email photos.read offline_access",
        grants: tuple[str, ...] = ("authorization_code", "refresh_token"),
        id_token_alg: str = "RS256",
    ) -> None:
        client = Client(
            client_id,
            digest(secret) if secret else None,
            client_id,
            redirect_uris,
            (),
            frozenset(scopes.split()),
            frozenset(grants),
            id_token_alg,
        )
        self.store().add_client(client, time.time())

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.kill(self.proc.pid, signal.SIGKILL)
                self.proc.wait()

    def output(self) -> str:
        return self.log.read_text(errors="replace")


def start_sandbox(
    data_dir: Path, *args: str, db: str | None = None, env: dict[str, str] | None = None
) -> Sandbox:
    data_dir.mkdir(parents=True, exist_ok=True)
    db = db or f"sqlite:///{data_dir / 'valetkey.db'}"
    log = data_dir / f"serve-{time.monotonic_ns()}.log"
    command = [
        sys.executable,
        "-m",
        "valetkey",
        "serve",
        "--port",
        "0",
        "--data-dir",
        str(data_dir),
        "--db",
        db,
        *args,
    ]
    environment = {k: v for k, v in os.environ.items() if not k.startswith("VALETKEY_")}
    environment.update(env or {})
    with log.open("wb") as out:
        proc = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, env=environment)
    sandbox = Sandbox("", data_dir, proc, db, log)
    try:
        sandbox.issuer = _wait_ready(sandbox)
    except Exception:
        sandbox.stop()
        raise
    creds = data_dir / "demo-credentials.json"
    if creds.exists():
        sandbox.creds = json.loads(creds.read_text())
    return sandbox


def _wait_ready(sandbox: Sandbox) -> str:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if sandbox.proc.poll() is not None:
            raise RuntimeError(f"valetkey serve exited early:\n{sandbox.output()}")
        text = sandbox.output()
        if "Ready in" in text:
            issuer = next(line.split()[-1] for line in text.splitlines() if "Issuer:" in line)
            httpx.get(issuer + "/.well-known/openid-configuration", timeout=5).raise_for_status()
            return issuer
        time.sleep(0.05)
    raise RuntimeError(f"valetkey serve did not start in {START_TIMEOUT} s:\n{sandbox.output()}")

"""Run `valetkey serve` as a child process on a free loopback port, and stop it by PID.

The launcher under `valetkey.sandbox` (the public facade, which also sets the sandbox up over
its admin API) and the tests: the sandbox runs exactly as a user runs it.
"""

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

START_TIMEOUT = 20.0


class SandboxStartError(RuntimeError):
    """The sandbox did not start; the message carries what it printed."""


@dataclass
class SandboxProcess:
    issuer: str
    data_dir: Path
    proc: subprocess.Popen[bytes]
    db: str
    log: Path
    creds: dict[str, Any] = field(default_factory=dict)
    url: str = ""  # where this process listens (the issuer may name another instance)

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.kill(self.proc.pid, signal.SIGKILL)
                self.proc.wait()


def start(
    data_dir: Path, *args: str, db: str | None = None, env: dict[str, str] | None = None
) -> SandboxProcess:
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
        # our own interpreter running our own module: no untrusted input in the command
        proc = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, env=environment)  # noqa: S603
    sandbox = SandboxProcess("", data_dir, proc, db, log)
    try:
        sandbox.issuer, sandbox.url = _wait_ready(sandbox)
    except BaseException:
        sandbox.stop()
        raise
    creds = data_dir / "demo-credentials.json"
    if creds.exists():
        sandbox.creds = json.loads(creds.read_text())
    return sandbox


def _wait_ready(sandbox: SandboxProcess) -> tuple[str, str]:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if sandbox.proc.poll() is not None:
            raise SandboxStartError(f"valetkey serve exited early:\n{sandbox.output()}")
        text = sandbox.output()
        if "Ready in" in text:
            lines = text.splitlines()
            issuer = next(line.split()[-1] for line in lines if "Issuer:" in line)
            url = next(line.split()[-1] for line in lines if "Listening:" in line)
            httpx.get(url + "/.well-known/openid-configuration", timeout=5).raise_for_status()
            return issuer, url
        time.sleep(0.05)
    raise SandboxStartError(f"valetkey serve did not start in {START_TIMEOUT} s")

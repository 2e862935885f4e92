"""Start, time, inspect and stop the servers under test; everything on 127.0.0.1."""

from __future__ import annotations

import os
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx

HOST = "127.0.0.1"
DISCOVERY = "/.well-known/openid-configuration"
START_TIMEOUT_S = 30.0
POLL_INTERVAL_S = 0.005
STOP_TIMEOUT_S = 5.0
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


@dataclass(frozen=True)
class ServerSpec:
    """How to start one configuration of one product; `{port}` in argv is filled in."""

    name: str
    product: str
    argv: tuple[str, ...]
    env: dict[str, str] = field(default_factory=dict)
    cwd: Path | None = None
    token_format: str | None = None
    notes: str = ""


@dataclass
class Running:
    spec: ServerSpec
    proc: subprocess.Popen[bytes]
    port: int
    startup_s: float

    @property
    def base_url(self) -> str:
        return f"http://{HOST}:{self.port}"

    @property
    def pid(self) -> int:
        return self.proc.pid


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def _spawn(spec: ServerSpec, port: int, log_dir: Path) -> subprocess.Popen[bytes]:
    argv = [part.replace("{port}", str(port)) for part in spec.argv]
    env = {**os.environ, **{k: v.replace("{port}", str(port)) for k, v in spec.env.items()}}
    log = (log_dir / f"{spec.name}.log").open("ab")
    try:
        return subprocess.Popen(
            argv,
            cwd=spec.cwd,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    finally:
        log.close()


def _wait_ready(proc: subprocess.Popen[bytes], url: str, started: float) -> float:
    """Seconds from spawn to the first 200 from the discovery document."""
    with httpx.Client(timeout=1.0, trust_env=False) as client:
        while time.perf_counter() - started < START_TIMEOUT_S:
            if proc.poll() is not None:
                raise RuntimeError(f"server exited with {proc.returncode} before answering")
            try:
                if client.get(url).status_code == 200:
                    return time.perf_counter() - started
            except httpx.TransportError:
                pass
            time.sleep(POLL_INTERVAL_S)
    raise RuntimeError(f"no 200 from {url} within {START_TIMEOUT_S} s")


def stop(proc: subprocess.Popen[bytes]) -> None:
    """Terminate by PID, then kill if it does not go."""
    if proc.poll() is not None:
        return
    proc.terminate()
    try:
        proc.wait(STOP_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(STOP_TIMEOUT_S)


def start(spec: ServerSpec, log_dir: Path) -> Running:
    port = free_port()
    started = time.perf_counter()
    proc = _spawn(spec, port, log_dir)
    try:
        startup = _wait_ready(proc, f"http://{HOST}:{port}{DISCOVERY}", started)
    except BaseException:
        stop(proc)
        raise
    return Running(spec, proc, port, startup)


@contextmanager
def running(spec: ServerSpec, log_dir: Path) -> Iterator[Running]:
    server = start(spec, log_dir)
    try:
        yield server
    finally:
        stop(server.proc)


def cpu_seconds(pid: int) -> float:
    """utime + stime of the process (all its threads) from /proc/PID/stat."""
    stat = Path(f"/proc/{pid}/stat").read_text()
    fields = stat[stat.rindex(")") + 2 :].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmRSS for PID {pid}")


def startup_times(spec: ServerSpec, log_dir: Path, repeats: int) -> list[float]:
    times = []
    for _ in range(repeats):
        with running(spec, log_dir) as server:
            times.append(server.startup_s)
    return times


def machine_busy_s() -> float:
    """CPU seconds spent busy by the whole machine since boot (all cores), from /proc/stat."""
    fields = Path("/proc/stat").read_text().splitlines()[0].split()[1:]
    user, nice, system, _idle, _iowait, irq, softirq, steal = (int(x) for x in fields[:8])
    return (user + nice + system + irq + softirq + steal) / CLOCK_TICKS


def own_cpu_s() -> float:
    """CPU seconds of this process and its finished children (wrk)."""
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


@dataclass
class CpuMeter:
    """Server CPU and the CPU that the rest of the machine (other users) took meanwhile."""

    pid: int
    server: float = 0.0
    others_cores: float = 0.0
    _t: tuple[float, float, float, float] = (0.0, 0.0, 0.0, 0.0)

    def __enter__(self) -> CpuMeter:
        self._t = (time.perf_counter(), machine_busy_s(), own_cpu_s(), cpu_seconds(self.pid))
        return self

    def __exit__(self, *_: object) -> None:
        wall0, busy0, own0, srv0 = self._t
        wall = time.perf_counter() - wall0
        self.server = cpu_seconds(self.pid) - srv0
        others = machine_busy_s() - busy0 - (own_cpu_s() - own0) - self.server
        self.others_cores = max(others, 0.0) / wall if wall > 0 else 0.0


def wait_for_quiet(max_wait_s: float, limit_cores: float = 0.3, sample_s: float = 0.5) -> float:
    """Wait (at most max_wait_s) until the machine is nearly idle; the last busy-cores sample.

    The benchmark's own servers are idle between measurements, so what is busy here is other
    users of this shared machine.
    """
    deadline = time.perf_counter() + max_wait_s
    while True:
        before = machine_busy_s()
        time.sleep(sample_s)
        busy = (machine_busy_s() - before) / sample_s
        if busy < limit_cores or time.perf_counter() >= deadline:
            return busy

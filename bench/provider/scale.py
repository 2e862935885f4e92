"""Scaling out: complete flows per second with one valetkey on SQLite, one on PostgreSQL,
and two on one PostgreSQL behind nginx (the Debian package) as the loopback load balancer,
at both durability classes of `valetkey serve --durability`.

    .venv/bin/python bench/provider/scale.py [--seconds 5] [--repeats 3] [--concurrency 16]
    .venv/bin/python bench/provider/scale.py --token [--format opaque|jwt]

Every setup is started first and then measured in rounds, each round measuring every setup
once, one after the other: the machine's speed drifts by 10-20% over minutes, and a ratio
taken within one round compares setups that ran seconds apart. Each row's ratio is the
median over the rounds of its rate (and CPU) against the SQLite instance of the same
durability class in the same round:

- app-crash (SQLite's default): a commit survives valetkey being killed at any point, not
  the machine's crash (SQLite synchronous=NORMAL, PostgreSQL synchronous_commit=off);
- power-loss (PostgreSQL's default): a commit is on disk before the answer (SQLite FULL,
  PostgreSQL on).
Every instance is started with its class named (`--durability`).

`--token` measures the token endpoint instead (wrk, 2 threads, 32 connections, client
credentials) in the same setups: the process-model lever of issue 16.

Every instance runs with `--lab weak-password-hash` (argon2id m=1 MiB, t=1) so that the
store and the protocol, not the password hash, are measured. Results go to
bench/results/scale-YYYYMMDD.{json,md}.
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parent))
from flows import FlowTarget, run_flows
from load import Endpoint, run_wrk, write_lua
from servers import cpu_seconds, free_port
from subjects import CC_CLIENT, CC_SECRET

from valetkey.provider import process

RESULTS = Path(__file__).resolve().parent.parent / "results"
PG_ADMIN = "postgresql://127.0.0.1:5432/test"
LAB = ("--lab", "weak-password-hash")
NGINX_CONF = """worker_processes 1;
pid {tmp}/nginx.pid;
error_log {tmp}/nginx-error.log;
events {{ worker_connections 1024; }}
http {{
  access_log off;
  client_body_temp_path {tmp}/body;
  proxy_temp_path {tmp}/proxy;
  upstream valetkey {{ {servers} keepalive 32; keepalive_timeout 2s; }}
  server {{
    listen 127.0.0.1:{port};
    location / {{
      proxy_pass http://valetkey;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header Host $http_host;
    }}
  }}
}}
"""


@contextmanager
def pg_database() -> Iterator[str]:
    """A fresh database on the machine's PostgreSQL, dropped afterwards."""
    name = f"vk_scale_{time.time_ns()}"
    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield PG_ADMIN.rsplit("/", 1)[0] + "/" + name
    finally:
        with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextmanager
def nginx(tmp: Path, port: int, upstreams: list[str]) -> Iterator[subprocess.Popen[bytes]]:
    binary = shutil.which("nginx") or "/usr/sbin/nginx"
    if not Path(binary).is_file():
        raise SystemExit("scale.py needs nginx as its load balancer: run `make bench-tools`")
    servers = " ".join(f"server {u.removeprefix('http://')};" for u in upstreams)
    conf = tmp / "nginx.conf"
    conf.write_text(NGINX_CONF.format(tmp=tmp, port=port, servers=servers))
    proc = subprocess.Popen(
        [binary, "-c", str(conf), "-p", str(tmp), "-g", "daemon off;"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                httpx.get(f"http://127.0.0.1:{port}/.well-known/openid-configuration", timeout=1)
                break
            except httpx.HTTPError:
                time.sleep(0.1)
        yield proc
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def target(issuer: str, creds: dict[str, object]) -> FlowTarget:
    users = creds["users"]
    assert isinstance(users, dict)
    return FlowTarget(
        issuer + "/authorize",
        issuer + "/token",
        "photo-printer",
        str(creds["client_secret"]),
        "http://127.0.0.1:8500/callback",
        "openid profile photos.read",
        {"username": "alice", "password": str(users["alice"]), "decision": "allow"},
    )


@dataclass
class Setup:
    """One setup, started: its row's name, its durability class, the address the load goes
    to, the demo credentials, and the processes whose CPU counts."""

    name: str
    durability: str
    issuer: str
    creds: dict[str, object]
    pids: list[int]
    db: str | None = None  # PostgreSQL: whose backends' CPU is counted as the database's
    runs: list[float] = field(default_factory=list)
    cpu_ms: list[float] = field(default_factory=list)
    db_cpu_ms: list[float] = field(default_factory=list)
    load_cpu_ms: list[float] = field(default_factory=list)


def backends(db: str | None) -> list[int]:
    """The PostgreSQL server processes serving `db`'s connections (the instances keep
    theirs open, so the same ones serve a whole run)."""
    if db is None:
        return []
    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        rows = conn.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
            (db.rsplit("/", 1)[1],),
        ).fetchall()
    return [int(row[0]) for row in rows]


def _cpu(pids: list[int]) -> float:
    total = 0.0
    for pid in pids:
        try:
            total += cpu_seconds(pid)
        except FileNotFoundError:  # a backend that ended: its CPU is not counted
            continue
    return total


def _load_cpu() -> float:
    """The load generator's CPU: this process's flow threads, or wrk (a child)."""
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return time.process_time() + children.ru_utime + children.ru_stime


def one_run(setup: Setup, run: Callable[[Setup], tuple[float, int]]) -> None:
    """`run(setup)` (its rate, and how many flows or requests it made) once, with the CPU
    per flow or request of the servers, of the database's backends and of the load."""
    database = backends(setup.db)
    before = (_cpu(setup.pids), _cpu(database), _load_cpu())
    rate, count = run(setup)
    after = (_cpu(setup.pids), _cpu(database), _load_cpu())
    per = [1000 * (b - a) / max(count, 1) for a, b in zip(before, after, strict=True)]
    setup.runs.append(rate)
    setup.cpu_ms.append(per[0])
    setup.db_cpu_ms.append(per[1])
    setup.load_cpu_ms.append(per[2])


def flow_runner(args: argparse.Namespace) -> Callable[[Setup], tuple[float, int]]:
    def run(setup: Setup) -> tuple[float, int]:
        result = run_flows(target(setup.issuer, setup.creds), args.concurrency, args.seconds, 10**6)
        if result.errors:
            raise SystemExit(f"{setup.name}: flows failed: {result.first_error}")
        return result.flows_per_s, result.flows

    return run


def token_runner(seconds: float, folder: Path) -> Callable[[Setup], tuple[float, int]]:
    """Client-credentials token requests/s with wrk, `seconds` each run."""
    wrk = shutil.which("wrk") or "/usr/bin/wrk"
    if not Path(wrk).is_file():
        raise SystemExit("scale.py --token needs wrk: run `make bench-tools`")
    lua = write_lua(Endpoint("/token", CC_CLIENT, CC_SECRET), folder)

    def run(setup: Setup) -> tuple[float, int]:
        result = run_wrk(wrk, setup.issuer + "/token", lua, 2, 32, round(seconds))
        if result.non_2xx or result.socket_errors:
            raise SystemExit(f"{setup.name}: token requests failed: {result.non_2xx} non-2xx")
        return result.requests_per_s, result.requests

    return run


def register_cc(tmp: Path, db: str | None) -> None:
    """The bench's client-credentials client, in the database the instances will share."""
    db = db or f"sqlite:///{tmp / 'valetkey.db'}"
    add = [sys.executable, "-m", "valetkey", "clients", "add", CC_CLIENT, "--secret", CC_SECRET]
    add += ["--grant", "client_credentials", "--scope", "photos.read", "--db", db]
    subprocess.run(add, capture_output=True, check=True, timeout=60)


def instance_args(
    tmp: Path, db: str | None, durability: str, args: argparse.Namespace
) -> list[str]:
    """What an instance is started with; for `--token`, the client is registered first."""
    extra = [*LAB, "--durability", durability]
    if args.token:
        register_cc(tmp, db)
        extra += ["--access-token-format", args.format]
    return extra


def start_one(
    stack: ExitStack,
    tmp: Path,
    name: str,
    db: str | None,
    durability: str,
    args: argparse.Namespace,
) -> Setup:
    tmp.mkdir(parents=True)
    sandbox = process.start(tmp, *instance_args(tmp, db, durability, args), db=db)
    stack.callback(sandbox.stop)
    return Setup(name, durability, sandbox.issuer, sandbox.creds, [sandbox.proc.pid], db)


def start_pair(
    stack: ExitStack, tmp: Path, name: str, db: str, durability: str, args: argparse.Namespace
) -> Setup:
    tmp.mkdir(parents=True)
    port = free_port()
    issuer = f"http://127.0.0.1:{port}"
    extra = instance_args(tmp, db, durability, args)
    first = process.start(tmp / "a", *extra, "--issuer", issuer, db=db)
    stack.callback(first.stop)
    second = process.start(tmp / "b", *extra, "--issuer", issuer, db=db)
    stack.callback(second.stop)
    balancer = stack.enter_context(nginx(tmp, port, [first.url, second.url]))
    pids = [first.proc.pid, second.proc.pid, balancer.pid]
    return Setup(name, durability, issuer, first.creds, pids, db)


def start_all(stack: ExitStack, tmp: Path, args: argparse.Namespace) -> list[Setup]:
    """Every setup, started and idle; the first of each durability class is its baseline."""
    setups = []
    for durability in ("app-crash", "power-loss"):
        suffix = "" if durability == "app-crash" else ", power-loss"
        where = tmp / durability
        setups.append(
            start_one(stack, where / "sqlite", f"one on SQLite{suffix}", None, durability, args)
        )
        db = stack.enter_context(pg_database())
        setups.append(
            start_one(stack, where / "pg", f"one on PostgreSQL{suffix}", db, durability, args)
        )
        if durability == "app-crash" or args.all_pairs:
            db = stack.enter_context(pg_database())
            name = f"two on PostgreSQL behind nginx{suffix}"
            setups.append(start_pair(stack, where / "pair", name, db, durability, args))
    return setups


def warm_up(setups: list[Setup], args: argparse.Namespace, tmp: Path) -> None:
    """A short run of each (and, for flows, the consent given once)."""
    short = token_runner(1, tmp) if args.token else None
    for setup in setups:
        if short is not None:
            short(setup)
        else:
            run_flows(target(setup.issuer, setup.creds), 2, 1.0, 20)


def measure_rounds(setups: list[Setup], args: argparse.Namespace, tmp: Path) -> None:
    run = token_runner(args.seconds, tmp) if args.token else flow_runner(args)
    for number in range(args.repeats):
        for setup in setups:
            shown = f"round {number + 1}/{args.repeats}: {setup.name} ..."
            print(shown, file=sys.stderr, flush=True)
            one_run(setup, run)


def baseline(setups: list[Setup], durability: str) -> Setup:
    return next(s for s in setups if s.durability == durability)


def row(setup: Setup, setups: list[Setup]) -> dict[str, object]:
    """The setup's medians, and its ratios to its class's SQLite instance: per round, then
    the median of those."""
    base = baseline(setups, setup.durability)
    rate_ratios = [r / b for r, b in zip(setup.runs, base.runs, strict=True)]
    cpu_ratios = [c / b for c, b in zip(setup.cpu_ms, base.cpu_ms, strict=True)]
    return {
        "durability": setup.durability,
        "per_s": statistics.median(setup.runs),
        "runs": setup.runs,
        "server_cpu_ms": statistics.median(setup.cpu_ms),
        "cpu_runs": setup.cpu_ms,
        "database_cpu_ms": statistics.median(setup.db_cpu_ms),
        "load_cpu_ms": statistics.median(setup.load_cpu_ms),
        "against": base.name,
        "rate_ratio": statistics.median(rate_ratios),
        "cpu_ratio": statistics.median(cpu_ratios),
    }


def table(results: dict[str, dict[str, object]], what: str) -> str:
    """CPU columns are ms per flow or request (medians over the rounds): the valetkey
    processes' (and nginx's), PostgreSQL's backends' (SQLite runs inside the server), and
    the load generator's; the cores are shared by all three."""
    lines = [
        f"| setup | durability | {what}/s (median) | runs | CPU ms each: server "
        "| database | load | vs one on SQLite, same durability: rate, server CPU |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for name, r in results.items():
        runs = " / ".join(f"{x:.0f}" for x in r["runs"])  # type: ignore[attr-defined]
        db = f"{r['database_cpu_ms']:.2f}" if "PostgreSQL" in name else "in server"
        lines.append(
            f"| {name} | {r['durability']} | {r['per_s']:.1f} | {runs} | {r['server_cpu_ms']:.2f} "
            f"| {db} | {r['load_cpu_ms']:.2f} | {r['rate_ratio']:.2f}x, {r['cpu_ratio']:.2f}x |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=5.0, help="each measurement [5]")
    parser.add_argument("--repeats", type=int, default=3, help="rounds over every setup [3]")
    parser.add_argument("--concurrency", type=int, default=16, help="flows at a time [16]")
    parser.add_argument("--token", action="store_true", help="the token endpoint, with wrk")
    parser.add_argument("--format", choices=("opaque", "jwt"), default="opaque")
    parser.add_argument(
        "--all-pairs", action="store_true", help="the nginx pair at power-loss too (slower run)"
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="valetkey-scale-") as tmp_name, ExitStack() as stack:
        setups = start_all(stack, Path(tmp_name), args)
        warm_up(setups, args, Path(tmp_name))
        measure_rounds(setups, args, Path(tmp_name))
        results = {setup.name: row(setup, setups) for setup in setups}
    what = f"token requests ({args.format})" if args.token else "flows"
    shown = table(results, what)
    print(shown)
    stamp = time.strftime("%Y%m%d")
    RESULTS.mkdir(exist_ok=True)
    name = f"scale-token-{args.format}-{stamp}" if args.token else f"scale-{stamp}"
    record = {
        "measured": what,
        "concurrency": 32 if args.token else args.concurrency,
        "seconds": args.seconds,
        "repeats": args.repeats,
        "password_hash": "argon2id m=1 MiB t=1 p=1 (--lab weak-password-hash)",
        "results": results,
    }
    (RESULTS / f"{name}.json").write_text(json.dumps(record, indent=2))
    (RESULTS / f"{name}.md").write_text(shown + "\n")


if __name__ == "__main__":
    main()

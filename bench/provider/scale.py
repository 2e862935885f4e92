"""Scaling out: complete flows per second with one valetkey on SQLite, one on PostgreSQL,
and two on one PostgreSQL behind nginx (the Debian package) as the loopback load balancer.

    .venv/bin/python bench/provider/scale.py [--seconds 5] [--repeats 3] [--concurrency 16]
    .venv/bin/python bench/provider/scale.py --token [--format opaque|jwt]

PostgreSQL commits with `synchronous_commit=on` (its default: each commit waits for the WAL
to reach the disk, so it survives a power loss); SQLite runs in WAL mode with
`synchronous=NORMAL` (a commit survives a crash of the process, not of the machine). The row
"synchronous_commit=off" gives PostgreSQL SQLite's class, to show what the stronger one costs.

`--token` measures the token endpoint instead (wrk, 2 threads, 32 connections, client
credentials) in the same three setups: the process-model lever of issue 16.

Every instance runs with `--lab weak-password-hash` (argon2id m=1 MiB, t=1) so that the
store and the protocol, not the password hash, are measured. Results go to
bench/results/scale-YYYYMMDD.{json,md}.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
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
def pg_database(synchronous_commit: bool = True) -> Iterator[str]:
    """A fresh database; `synchronous_commit=False` gives it SQLite's durability class here
    (a commit survives a crash of the server process, not of the machine)."""
    name = f"vk_scale_{int(time.time() * 1000)}"
    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
        if not synchronous_commit:
            conn.execute(f'ALTER DATABASE "{name}" SET synchronous_commit = off')
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


def repeated(
    pids: list[int], repeats: int, run: Callable[[], tuple[float, int]]
) -> dict[str, object]:
    """`run()` (its rate, and how many flows or requests it made) `repeats` times, with the
    servers' CPU per flow or request of each run; medians."""
    rates, cpu = [], []
    for _ in range(repeats):
        before = sum(cpu_seconds(pid) for pid in pids)
        rate, count = run()
        used = sum(cpu_seconds(pid) for pid in pids) - before
        rates.append(rate)
        cpu.append(1000 * used / max(count, 1))
    return {
        "per_s": statistics.median(rates),
        "runs": rates,
        "server_cpu_ms": statistics.median(cpu),
    }


def measure(
    flows_target: FlowTarget, pids: list[int], args: argparse.Namespace
) -> dict[str, object]:
    run_flows(flows_target, 2, 1.0, 20)  # warm up (and consent once)

    def flows() -> tuple[float, int]:
        run = run_flows(flows_target, args.concurrency, args.seconds, 100_000)
        if run.errors:
            raise SystemExit(f"flows failed: {run.first_error}")
        return run.flows_per_s, run.flows

    return repeated(pids, args.repeats, flows)


def measure_token(issuer: str, pids: list[int], args: argparse.Namespace) -> dict[str, object]:
    """Client-credentials token requests/s with wrk, and the servers' CPU per request."""
    wrk = shutil.which("wrk") or "/usr/bin/wrk"
    lua = write_lua(Endpoint("/token", CC_CLIENT, CC_SECRET), Path(tempfile.mkdtemp()))
    run_wrk(wrk, issuer + "/token", lua, 2, 32, 1)  # warm up

    def requests() -> tuple[float, int]:
        result = run_wrk(wrk, issuer + "/token", lua, 2, 32, int(args.seconds))
        if result.non_2xx or result.socket_errors:
            raise SystemExit(f"token requests failed: {result.non_2xx} non-2xx")
        return result.requests_per_s, result.requests

    return repeated(pids, args.repeats, requests)


def prepare(tmp: Path, db: str | None, args: argparse.Namespace) -> tuple[str, ...]:
    """What the instances are started with; for `--token`, the client registered first."""
    if not args.token:
        return ()
    register_cc(tmp, db)
    return ("--access-token-format", args.format)


def measure_mode(
    args: argparse.Namespace, base: str, creds: dict[str, object], pids: list[int]
) -> dict[str, object]:
    if args.token:
        return measure_token(base, pids, args)
    return measure(target(base, creds), pids, args)


def register_cc(tmp: Path, db: str | None) -> None:
    """The bench's client-credentials client, in the database the instances will share."""
    db = db or f"sqlite:///{tmp / 'valetkey.db'}"
    add = [sys.executable, "-m", "valetkey", "clients", "add", CC_CLIENT, "--secret", CC_SECRET]
    add += ["--grant", "client_credentials", "--scope", "photos.read", "--db", db]
    subprocess.run(add, capture_output=True, check=True, timeout=60)


def one(tmp: Path, db: str | None, args: argparse.Namespace) -> dict[str, object]:
    sandbox = process.start(tmp, *LAB, *prepare(tmp, db, args), db=db)
    try:
        return measure_mode(args, sandbox.issuer, sandbox.creds, [sandbox.proc.pid])
    finally:
        sandbox.stop()


def pair(tmp: Path, db: str, args: argparse.Namespace) -> dict[str, object]:
    port = free_port()
    issuer = f"http://127.0.0.1:{port}"
    extra = prepare(tmp, db, args)
    with ExitStack() as stack:
        first = process.start(tmp / "a", *LAB, *extra, "--issuer", issuer, db=db)
        stack.callback(first.stop)
        second = process.start(tmp / "b", *LAB, *extra, "--issuer", issuer, db=db)
        stack.callback(second.stop)
        balancer = stack.enter_context(nginx(tmp, port, [first.url, second.url]))
        pids = [first.proc.pid, second.proc.pid, balancer.pid]
        return measure_mode(args, issuer, first.creds, pids)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--token", action="store_true", help="the token endpoint, with wrk")
    parser.add_argument("--format", choices=("opaque", "jwt"), default="opaque")
    args = parser.parse_args()
    results: dict[str, dict[str, object]] = {}
    with tempfile.TemporaryDirectory(prefix="valetkey-scale-") as tmp_name:
        tmp = Path(tmp_name)
        results["one on SQLite"] = one(tmp / "sqlite", None, args)
        with pg_database() as db:
            results["one on PostgreSQL"] = one(tmp / "pg", db, args)
        with pg_database(synchronous_commit=False) as db:
            results["one on PostgreSQL, synchronous_commit=off"] = one(tmp / "pg-async", db, args)
        with pg_database() as db:
            results["two on PostgreSQL behind nginx"] = pair(tmp / "pair", db, args)
    what = f"token requests ({args.format})" if args.token else "flows"
    base = results["one on SQLite"]
    lines = [
        f"| setup | {what}/s (median) | runs | server CPU ms each | vs one on SQLite: rate, CPU |",
        "|---|---|---|---|---|",
    ]
    for name, row in results.items():
        rate, cpu = float(row["per_s"]), float(row["server_cpu_ms"])  # type: ignore[arg-type]
        runs = " / ".join(f"{r:.0f}" for r in row["runs"])  # type: ignore[attr-defined]
        ratios = f"{rate / float(base['per_s']):.2f}x, {cpu / float(base['server_cpu_ms']):.2f}x"  # type: ignore[arg-type]
        lines.append(f"| {name} | {rate:.1f} | {runs} | {cpu:.2f} | {ratios} |")
    table = "\n".join(lines)
    print(table)
    stamp = time.strftime("%Y%m%d")
    RESULTS.mkdir(exist_ok=True)
    name = f"scale-token-{args.format}-{stamp}" if args.token else f"scale-{stamp}"
    (RESULTS / f"{name}.json").write_text(
        json.dumps(
            {
                "measured": what,
                "concurrency": 32 if args.token else args.concurrency,
                "seconds": args.seconds,
                "repeats": args.repeats,
                "password_hash": "argon2id m=1 MiB t=1 p=1 (--lab weak-password-hash)",
                "results": results,
            },
            indent=2,
        )
    )
    (RESULTS / f"{name}.md").write_text(table + "\n")


if __name__ == "__main__":
    main()

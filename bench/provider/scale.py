"""Scaling out: complete flows per second with one valetkey on SQLite, one on PostgreSQL,
and two on one PostgreSQL behind nginx (the Debian package) as the loopback load balancer.

    .venv/bin/python bench/provider/scale.py [--seconds 5] [--repeats 3] [--concurrency 16]

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
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

import httpx
import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parent))
from flows import FlowTarget, run_flows
from servers import cpu_seconds, free_port

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
    name = f"vk_scale_{int(time.time() * 1000)}"
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


def measure(
    flows_target: FlowTarget, pids: list[int], args: argparse.Namespace
) -> dict[str, object]:
    run_flows(flows_target, 2, 1.0, 20)  # warm up (and consent once)
    rates, cpu = [], []
    for _ in range(args.repeats):
        before = sum(cpu_seconds(pid) for pid in pids)
        run = run_flows(flows_target, args.concurrency, args.seconds, 100_000)
        used = sum(cpu_seconds(pid) for pid in pids) - before
        if run.errors:
            raise SystemExit(f"flows failed: {run.first_error}")
        rates.append(run.flows_per_s)
        cpu.append(1000 * used / max(run.flows, 1))
    return {
        "flows_per_s": statistics.median(rates),
        "runs": rates,
        "server_cpu_ms_per_flow": statistics.median(cpu),
    }


def one(tmp: Path, db: str | None, args: argparse.Namespace) -> dict[str, object]:
    sandbox = process.start(tmp, *LAB, db=db)
    try:
        return measure(target(sandbox.issuer, sandbox.creds), [sandbox.proc.pid], args)
    finally:
        sandbox.stop()


def pair(tmp: Path, db: str, args: argparse.Namespace) -> dict[str, object]:
    port = free_port()
    issuer = f"http://127.0.0.1:{port}"
    with ExitStack() as stack:
        first = process.start(tmp / "a", *LAB, "--issuer", issuer, db=db)
        stack.callback(first.stop)
        second = process.start(tmp / "b", *LAB, "--issuer", issuer, db=db)
        stack.callback(second.stop)
        balancer = stack.enter_context(nginx(tmp, port, [first.url, second.url]))
        pids = [first.proc.pid, second.proc.pid, balancer.pid]
        return measure(target(issuer, first.creds), pids, args)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--concurrency", type=int, default=16)
    args = parser.parse_args()
    results: dict[str, dict[str, object]] = {}
    with tempfile.TemporaryDirectory(prefix="valetkey-scale-") as tmp_name:
        tmp = Path(tmp_name)
        results["one on SQLite"] = one(tmp / "sqlite", None, args)
        with pg_database() as db:
            results["one on PostgreSQL"] = one(tmp / "pg", db, args)
        with pg_database() as db:
            results["two on PostgreSQL behind nginx"] = pair(tmp / "pair", db, args)
    base = float(results["one on SQLite"]["flows_per_s"])  # type: ignore[arg-type]
    lines = [
        "| setup | flows/s (median) | runs | server CPU ms/flow | vs one on SQLite |",
        "|---|---|---|---|---|",
    ]
    for name, row in results.items():
        rate = float(row["flows_per_s"])  # type: ignore[arg-type]
        runs = " / ".join(f"{r:.0f}" for r in row["runs"])  # type: ignore[attr-defined]
        lines.append(
            f"| {name} | {rate:.1f} | {runs} | "
            f"{float(row['server_cpu_ms_per_flow']):.2f} | {rate / base:.2f}x |"
        )  # type: ignore[arg-type]
    table = "\n".join(lines)
    print(table)
    stamp = time.strftime("%Y%m%d")
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / f"scale-{stamp}.json").write_text(
        json.dumps(
            {
                "concurrency": args.concurrency,
                "seconds": args.seconds,
                "repeats": args.repeats,
                "password_hash": "argon2id m=1 MiB t=1 p=1 (--lab weak-password-hash)",
                "results": results,
            },
            indent=2,
        )
    )
    (RESULTS / f"scale-{stamp}.md").write_text(table + "\n")


if __name__ == "__main__":
    main()

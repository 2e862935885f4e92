"""The token endpoint's floor in valetkey's stack, against oidc-provider in the same run.

    .venv/bin/python bench/provider/floor.py [--rounds 3] [--seconds 5]

Four servers answer the same client-credentials request (wrk, 2 threads, 32 connections),
measured in interleaved rounds, each round measuring every server once:

- oidc-provider (Node), opaque tokens, in memory: the peer of issue 16's token rows;
- valetkey serve, opaque tokens, SQLite (WAL, synchronous=NORMAL);
- floor-http: the HTTP stack valetkey runs on (uvicorn, httptools, uvloop, the hardening's
  bounded protocol) with an ASGI app that reads the request and answers a fixed token
  response: the least any endpoint on this stack costs;
- floor-durable: the same stack with the least a durable token endpoint does: the Basic
  header parsed, the secret's SHA-256 compared in constant time, a random token made, its
  SHA-256 inserted into SQLite (WAL, synchronous=NORMAL) and committed in a worker thread
  before the answer. No checks, no flow record, no scope handling;
- floor-durable-inline: the same with the insert and commit on the event loop (no thread
  hand-over; the loop waits for SQLite, which valetkey does not let its loop do for writes).

Each row: req/s and the server's CPU per request (medians), and both as ratios to the peer.
The two floors say how much of a target like "server CPU per request <= 0.8x the peer" is
left for what valetkey checks and records. Needs wrk (`make bench-tools`) and the Node peer
(installed as bench/run.py installs it). Results: bench/results/floor-YYYYMMDD.{json,md}.
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

sys.path.insert(0, str(Path(__file__).resolve().parent))
from load import Endpoint, run_wrk, write_lua
from peers import install
from servers import ServerSpec, cpu_seconds, free_port, running
from subjects import CC_CLIENT, CC_SECRET, _oidc_provider, _register_cc_client, valetkey_argv

RESULTS = Path(__file__).resolve().parent.parent / "results"

FLOOR_APP = """
import asyncio, base64, hashlib, hmac, json, secrets, sqlite3, sys, threading
from concurrent.futures import ThreadPoolExecutor
import uvicorn
from valetkey.provider.http_limits import MAX_CONNECTIONS, BoundedHttpToolsProtocol

kind, port, db_path, client_id, secret = sys.argv[1:6]
BODY = json.dumps({"access_token": secrets.token_urlsafe(32), "token_type": "Bearer",
                   "expires_in": 300, "scope": "photos.read"}).encode()
HEADERS = [(b"content-type", b"application/json"), (b"cache-control", b"no-store"),
           (b"pragma", b"no-cache")]
STORED = hashlib.sha256(secret.encode()).digest()
local = threading.local()
pool = ThreadPoolExecutor(4)

def connection():
    conn = getattr(local, "conn", None)
    if conn is None:
        conn = local.conn = sqlite3.connect(db_path)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")
    return conn

def issue(who):
    token = secrets.token_urlsafe(32)
    conn = connection()
    conn.execute("INSERT INTO tokens VALUES (?, ?, ?)",
                 (hashlib.sha256(token.encode()).hexdigest(), who, 300))
    conn.commit()
    return json.dumps({"access_token": token, "token_type": "Bearer", "expires_in": 300,
                       "scope": "photos.read"}).encode()

def authenticated(scope):
    for name, value in scope["headers"]:
        if name == b"authorization" and value[:6] == b"Basic ":
            who, _, given = base64.b64decode(value[6:]).decode().partition(":")
            digest = hashlib.sha256(given.encode()).digest()
            return who if who == client_id and hmac.compare_digest(digest, STORED) else None
    return None

async def app(scope, receive, send):
    if scope["type"] != "http":
        return
    more = True
    while more:
        message = await receive()
        more = message.get("more_body", False)
    body = BODY
    if kind != "http":
        who = authenticated(scope)
        if who is None:
            await send({"type": "http.response.start", "status": 401, "headers": HEADERS})
            await send({"type": "http.response.body", "body": b"{}"})
            return
        if kind == "inline":  # on the event loop: no thread hand-over, the loop waits
            body = issue(who)
        else:
            body = await asyncio.get_running_loop().run_in_executor(pool, issue, who)
    await send({"type": "http.response.start", "status": 200, "headers": HEADERS})
    await send({"type": "http.response.body", "body": body})

if kind != "http":
    with sqlite3.connect(db_path) as conn:
        conn.execute("CREATE TABLE IF NOT EXISTS tokens "
                     "(id TEXT PRIMARY KEY, client TEXT, ttl INT)")
uvicorn.Server(uvicorn.Config(
    app, host="127.0.0.1", port=int(port), log_level="warning", access_log=False,
    lifespan="off", loop="uvloop", ws="none", http=BoundedHttpToolsProtocol,
    limit_concurrency=MAX_CONNECTIONS, timeout_keep_alive=5, server_header=False,
)).run()
"""


@contextmanager
def floor_server(kind: str, tmp: Path) -> Iterator[tuple[int, str]]:
    """One of the two floors, started; its PID and base URL."""
    port = free_port()
    argv = [sys.executable, "-c", FLOOR_APP, kind, str(port), str(tmp / f"{kind}.db")]
    # our own interpreter and script, bench-only arguments
    proc = subprocess.Popen(
        [*argv, CC_CLIENT, CC_SECRET], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                httpx.get(url + "/", timeout=1)
                break
            except httpx.HTTPError:
                if time.monotonic() > deadline or proc.poll() is not None:
                    raise SystemExit(f"floor-{kind} did not start") from None
                time.sleep(0.1)
        yield proc.pid, url
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def start_all(stack: ExitStack, tmp: Path) -> dict[str, tuple[int, str]]:
    """Every server of the run, started and idle, by its row's name."""
    peer = _oidc_provider(install(), "opaque")
    started = stack.enter_context(running(peer.spec, tmp))
    servers = {"oidc-provider (peer)": (started.pid, started.base_url)}
    data_dir = tmp / "valetkey"
    _register_cc_client(data_dir)
    spec = ServerSpec("valetkey-opaque", "valetkey", valetkey_argv(data_dir, "opaque", False))
    started = stack.enter_context(running(spec, tmp))
    servers["valetkey serve (opaque, SQLite)"] = (started.pid, started.base_url)
    servers["floor-http (fixed answer)"] = stack.enter_context(floor_server("http", tmp))
    servers["floor-durable (auth + SQLite commit)"] = stack.enter_context(
        floor_server("durable", tmp)
    )
    servers["floor-durable-inline (the same, on the loop)"] = stack.enter_context(
        floor_server("inline", tmp)
    )
    return servers


def measure(
    servers: dict[str, tuple[int, str]], rounds: int, seconds: int, tmp: Path
) -> dict[str, dict[str, list[float]]]:
    wrk = shutil.which("wrk") or "/usr/bin/wrk"
    if not Path(wrk).is_file():
        raise SystemExit("floor.py needs wrk: run `make bench-tools`")
    lua = write_lua(Endpoint("/token", CC_CLIENT, CC_SECRET), tmp)
    runs: dict[str, dict[str, list[float]]] = {n: {"rate": [], "cpu": []} for n in servers}
    for _, url in servers.values():
        run_wrk(wrk, url + "/token", lua, 2, 32, 1)  # warm up
    for number in range(rounds):
        for name, (pid, url) in servers.items():
            print(f"round {number + 1}/{rounds}: {name} ...", file=sys.stderr, flush=True)
            before = cpu_seconds(pid)
            result = run_wrk(wrk, url + "/token", lua, 2, 32, seconds)
            used = cpu_seconds(pid) - before
            if result.non_2xx or result.socket_errors:
                raise SystemExit(f"{name}: {result.non_2xx} non-2xx, {result.socket_errors} errors")
            runs[name]["rate"].append(result.requests_per_s)
            runs[name]["cpu"].append(1000 * used / max(result.requests, 1))
    return runs


def table(runs: dict[str, dict[str, list[float]]]) -> tuple[str, dict[str, object]]:
    peer = runs["oidc-provider (peer)"]
    lines = [
        "| server | req/s (median) | server CPU ms/request | vs the peer: req/s, CPU |",
        "|---|---|---|---|",
    ]
    rows: dict[str, object] = {}
    for name, run in runs.items():
        rate_ratio = statistics.median(
            r / p for r, p in zip(run["rate"], peer["rate"], strict=True)
        )
        cpu_ratio = statistics.median(c / p for c, p in zip(run["cpu"], peer["cpu"], strict=True))
        rate, cpu = statistics.median(run["rate"]), statistics.median(run["cpu"])
        rows[name] = {**run, "rate_ratio": rate_ratio, "cpu_ratio": cpu_ratio}
        lines.append(f"| {name} | {rate:,.0f} | {cpu:.3f} | {rate_ratio:.2f}x, {cpu_ratio:.2f}x |")
    return "\n".join(lines), rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=3, help="rounds over every server [3]")
    parser.add_argument("--seconds", type=int, default=5, help="each measurement [5]")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="vk-floor-") as tmp_name, ExitStack() as stack:
        tmp = Path(tmp_name)
        runs = measure(start_all(stack, tmp), args.rounds, args.seconds, tmp)
    shown, rows = table(runs)
    print(shown)
    stamp = time.strftime("%Y%m%d")
    RESULTS.mkdir(exist_ok=True)
    record = {"rounds": args.rounds, "seconds": args.seconds, "wrk": "-t2 -c32", "rows": rows}
    (RESULTS / f"floor-{stamp}.json").write_text(json.dumps(record, indent=2))
    (RESULTS / f"floor-{stamp}.md").write_text(shown + "\n")


if __name__ == "__main__":
    main()

"""The token endpoint under two HTTP servers: uvicorn (as `valetkey serve` runs it: httptools,
uvloop, the hardening's head limits and deadlines) against granian (PyPI; Rust HTTP/1 with
the same ASGI app), interleaved, same SQLite store, same client-credentials request.

    .venv/bin/python bench/provider/http_servers.py [--rounds 3] [--seconds 5] [--format opaque]

Needs wrk (`make bench-tools`) and granian (`.venv/bin/pip install granian`; not a
dependency of valetkey). Prints req/s and server CPU per request, medians over the rounds,
and granian / uvicorn for both.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
from load import Endpoint, run_wrk, write_lua
from servers import cpu_seconds, free_port
from subjects import CC_CLIENT, CC_SECRET, _register_cc_client

CHILD = """
import asyncio, sys
from valetkey.provider.app import create_app
from valetkey.provider.core import Provider
from valetkey.provider.settings import build_settings
from valetkey.provider.store.open import open_store
server, data_dir, port, token_format = sys.argv[1:5]
settings = build_settings(
    {"data_dir": data_dir, "port": port, "access_token_format": token_format}, environ={}
)
app = create_app(Provider(settings, open_store(settings)))
if server == "uvicorn":
    import uvicorn
    from valetkey.provider.http_limits import MAX_CONNECTIONS, BoundedHttpToolsProtocol
    uvicorn.Server(uvicorn.Config(
        app, host="127.0.0.1", port=int(port), log_level="warning", access_log=False,
        lifespan="off", loop="uvloop", ws="none", http=BoundedHttpToolsProtocol,
        limit_concurrency=MAX_CONNECTIONS, timeout_keep_alive=5, server_header=False,
    )).run()
else:
    from granian.constants import Interfaces
    from granian.server.embed import Server
    embedded = Server(app, address="127.0.0.1", port=int(port), interface=Interfaces.ASGI,
                      websockets=False, log_enabled=False)
    asyncio.run(embedded.serve())
"""


def _start(server: str, data_dir: Path, token_format: str) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    argv = [sys.executable, "-c", CHILD, server, str(data_dir), str(port), token_format]
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            httpx.get(url + "/.well-known/openid-configuration", timeout=1)
            return proc, url
        except httpx.HTTPError:
            time.sleep(0.1)
    proc.kill()
    raise SystemExit(f"{server} did not start")


def _round(server: str, data_dir: Path, args: argparse.Namespace, lua: Path) -> tuple[float, float]:
    wrk = shutil.which("wrk") or "/usr/bin/wrk"
    proc, url = _start(server, data_dir, args.format)
    try:
        run_wrk(wrk, url + "/token", lua, 2, 32, 1)  # warm up
        before = cpu_seconds(proc.pid)
        result = run_wrk(wrk, url + "/token", lua, 2, 32, args.seconds)
        used = cpu_seconds(proc.pid) - before
        if result.non_2xx or result.socket_errors:
            raise SystemExit(f"{server}: {result.non_2xx} non-2xx, {result.socket_errors} errors")
        return result.requests_per_s, 1000 * used / max(result.requests, 1)
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=int, default=5)
    parser.add_argument("--format", choices=("opaque", "jwt"), default="opaque")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="vk-http-") as tmp:
        data_dir = Path(tmp) / "data"
        _register_cc_client(data_dir)  # creates the database too
        lua = write_lua(Endpoint("/token", CC_CLIENT, CC_SECRET), Path(tmp))
        runs: dict[str, list[tuple[float, float]]] = {"uvicorn": [], "granian": []}
        for _ in range(args.rounds):
            for server in runs:
                runs[server].append(_round(server, data_dir, args, lua))
    medians = {
        server: (statistics.median(r for r, _ in rows), statistics.median(c for _, c in rows))
        for server, rows in runs.items()
    }
    for server, (rate, cpu) in medians.items():
        print(f"{server:8} {rate:8.0f} req/s  {cpu:.3f} ms server CPU per request")
    (u_rate, u_cpu), (g_rate, g_cpu) = medians["uvicorn"], medians["granian"]
    print(f"granian / uvicorn: {g_rate / u_rate:.2f}x req/s, {g_cpu / u_cpu:.2f}x CPU per request")


if __name__ == "__main__":
    main()

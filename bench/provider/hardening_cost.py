"""The throughput cost of issue 15's hardening, with wrk against `valetkey serve`:
as shipped; with uvicorn's plain httptools protocol instead of the bounded one (no head
limits or deadlines); and with every handler on the event loop instead of store workers.
The variants run interleaved, and the medians and ratios to "shipped" are printed.

    .venv/bin/python bench/provider/hardening_cost.py [--rounds 5] [--seconds 5]

The other variants are made here only, by swapping a class or a set in a child process
before `valetkey serve` starts; the product has no switch for them.
"""

from __future__ import annotations

import argparse
import base64
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

PATHS = ("/.well-known/openid-configuration", "/jwks.json", "/token")
VARIANTS = ("shipped", "plain-protocol", "store-on-loop")
CLIENT = ("bench-cc", "bench-cc-secret-0123456789abcdef")
TOKEN_LUA = f"""wrk.method = "POST"
wrk.body = "grant_type=client_credentials&scope=photos.read"
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
wrk.headers["Authorization"] = "Basic {base64.b64encode(":".join(CLIENT).encode()).decode()}"
"""


def _child(variant: str, data_dir: str) -> None:
    """Run `valetkey serve` in this process, with the named protocol class."""
    from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

    from valetkey.cli.serve import serve
    from valetkey.provider import app, http_limits

    if variant == "plain-protocol":
        http_limits.BoundedHttpToolsProtocol = HttpToolsProtocol  # type: ignore[misc]
    if variant == "store-on-loop":
        app.LOOP_SAFE = frozenset(endpoint.handler for endpoint in app.ENDPOINTS)
    serve(["--port", "0", "--data-dir", data_dir, "--no-demo-data"])


def _add_client(data_dir: Path) -> None:
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "valetkey",
            "clients",
            "add",
            CLIENT[0],
            "--secret",
            CLIENT[1],
            "--grant",
            "client_credentials",
            "--scope",
            "photos.read",
            "--data-dir",
            str(data_dir),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(done.stderr)


def _start(variant: str, data_dir: Path) -> tuple[subprocess.Popen[bytes], str]:
    data_dir.mkdir(parents=True, exist_ok=True)
    _add_client(data_dir)
    log = data_dir / "serve.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, __file__, "--child", variant, str(data_dir)],
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        text = log.read_text()
        if "Ready in" in text:
            url = next(x.split()[-1] for x in text.splitlines() if "Listening:" in x)
            httpx.get(url + PATHS[0], timeout=5).raise_for_status()
            return proc, url
        time.sleep(0.05)
    proc.kill()
    raise RuntimeError(f"valetkey serve did not start:\n{log.read_text()}")


def _wrk(url: str, seconds: int, lua: Path) -> float:
    script = ["-s", str(lua)] if url.endswith("/token") else []
    done = subprocess.run(
        ["wrk", "-t2", "-c32", f"-d{seconds}s", *script, url],
        capture_output=True,
        text=True,
        timeout=seconds + 30,
        check=True,
    )
    line = next(x for x in done.stdout.splitlines() if x.startswith("Requests/sec:"))
    return float(line.split()[1])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=int, default=5)
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        sys.exit("wrk is not installed (apt-get install -y wrk)")
    rates: dict[tuple[str, str], list[float]] = {}
    scratch = Path(tempfile.mkdtemp(prefix="vk-bench-hardening-"))
    lua = scratch / "token.lua"
    lua.write_text(TOKEN_LUA)
    try:
        for round_no in range(args.rounds):
            order = VARIANTS[round_no % 3 :] + VARIANTS[: round_no % 3]
            for variant in order:
                proc, url = _start(variant, scratch / f"{variant}-{round_no}")
                try:
                    for path in PATHS:
                        _wrk(url + path, 1, lua)  # warm-up
                        rate = _wrk(url + path, args.seconds, lua)
                        rates.setdefault((variant, path), []).append(rate)
                finally:
                    proc.terminate()
                    proc.wait(timeout=10)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    for path in PATHS:
        shipped = statistics.median(rates[("shipped", path)])
        cells = [f"{path:34} shipped {shipped:6.0f} req/s"]
        for variant in VARIANTS[1:]:
            other = statistics.median(rates[(variant, path)])
            cells.append(f"{variant} {other:6.0f} (shipped/{variant} {shipped / other:.3f})")
        print("  ".join(cells))


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "--child":
        (Path(sys.argv[3])).mkdir(parents=True, exist_ok=True)
        _child(sys.argv[2], sys.argv[3])
    else:
        main()

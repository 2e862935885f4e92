"""The throughput cost of the request-head limits: wrk against `valetkey serve` with the
bounded protocol (as shipped) and with uvicorn's plain httptools protocol, interleaved.

    .venv/bin/python bench/provider/header_limits.py [--rounds 5] [--seconds 5]

The plain variant is made here only, by swapping the protocol class in a child process
before `valetkey serve` starts; the product has no switch for it.
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

PATHS = ("/.well-known/openid-configuration", "/jwks.json")


def _child(variant: str, data_dir: str) -> None:
    """Run `valetkey serve` in this process, with the named protocol class."""
    from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

    from valetkey.cli.serve import serve
    from valetkey.provider import http_limits

    if variant == "plain":
        http_limits.BoundedHttpToolsProtocol = HttpToolsProtocol  # type: ignore[misc]
    serve(["--port", "0", "--data-dir", data_dir, "--no-demo-data"])


def _start(variant: str, data_dir: Path) -> tuple[subprocess.Popen[bytes], str]:
    data_dir.mkdir(parents=True, exist_ok=True)
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


def _wrk(url: str, seconds: int) -> float:
    done = subprocess.run(
        ["wrk", "-t2", "-c32", f"-d{seconds}s", url],
        capture_output=True,
        text=True,
        timeout=seconds + 30,
        check=True,
    )
    line = next(x for x in done.stdout.splitlines() if x.startswith("Requests/sec:"))
    return float(line.split()[1])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--seconds", type=int, default=5)
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        sys.exit("wrk is not installed (apt-get install -y wrk)")
    rates: dict[tuple[str, str], list[float]] = {}
    scratch = Path(tempfile.mkdtemp(prefix="vk-bench-limits-"))
    try:
        for round_no in range(args.rounds):
            for variant in ("plain", "bounded") if round_no % 2 == 0 else ("bounded", "plain"):
                proc, url = _start(variant, scratch / f"{variant}-{round_no}")
                try:
                    for path in PATHS:
                        _wrk(url + path, 1)  # warm-up
                        rates.setdefault((variant, path), []).append(_wrk(url + path, args.seconds))
                finally:
                    proc.terminate()
                    proc.wait(timeout=10)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    for path in PATHS:
        plain = statistics.median(rates[("plain", path)])
        bounded = statistics.median(rates[("bounded", path)])
        print(
            f"{path:40} plain {plain:8.0f} req/s  bounded {bounded:8.0f} req/s"
            f"  ratio {bounded / plain:.3f}"
        )


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "--child":
        (Path(sys.argv[3])).mkdir(parents=True, exist_ok=True)
        _child(sys.argv[2], sys.argv[3])
    else:
        main()

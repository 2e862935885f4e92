"""Python calls per client-credentials token request, counted in the server: a deterministic
stand-in for CPU time, for comparing two revisions on a busy machine (it does not change with
the machine's load, as req/s and CPU per request do).

    .venv/bin/python bench/provider/calls.py [--format jwt|opaque] [--requests 200] [--top 0]
    .venv/bin/python bench/provider/calls.py --postgres
    PYTHONPATH=<other checkout>/src:<other checkout> .venv/bin/python bench/provider/calls.py

The sandbox runs in this process (its ASGI app on a free loopback port, a fresh SQLite file);
a profile hook on every thread it starts counts the calls made while the requests are served,
after 30 warm-up requests. `--top N` lists the N source files with the most calls per request.
`--postgres` uses a fresh database on the local PostgreSQL instead (tests/support/postgres.py),
where each request starts by reading the state that instances share (admin clock, injected
faults, queued claims: `provider/shared_state.py`).
"""

from __future__ import annotations

import argparse
import base64
import collections
import os
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import FrameType
from typing import Any

import httpx

CLIENT, SECRET = "bench-calls", "bench-calls-secret-0123456789abcdef"  # bench-only, 127.0.0.1
BODY = "grant_type=client_credentials&scope=photos.read"


class Counter:
    def __init__(self) -> None:
        self.on = False
        self.calls: collections.Counter[tuple[str, bool]] = collections.Counter()
        self.lock = threading.Lock()
        self.main = threading.get_ident()
        self.started = self.seconds = 0.0

    def profile(self, frame: FrameType, event: str, arg: Any) -> None:
        if not self.on or threading.get_ident() == self.main:
            return
        if event in ("call", "c_call"):
            place = frame.f_code.co_filename if event == "call" else "<C>"
            with self.lock:
                self.calls[(place.split("site-packages/")[-1], event == "call")] += 1


def _register(db: str) -> None:
    add = [sys.executable, "-m", "valetkey", "clients", "add", CLIENT, "--secret", SECRET]
    add += ["--grant", "client_credentials", "--scope", "photos.read"]
    done = subprocess.run(
        add, capture_output=True, text=True, env={**os.environ, "VALETKEY_DB": db}
    )
    if done.returncode != 0:
        raise SystemExit(f"valetkey clients add failed: {done.stderr.strip()}")


@contextmanager
def _database(postgres: bool) -> Iterator[str]:
    if not postgres:
        yield f"sqlite:///{Path(tempfile.mkdtemp(prefix='vk-calls-')) / 'vk.sqlite'}"
        return
    from tests.support.postgres import fresh_database

    with fresh_database() as url:
        yield url


def count(token_format: str, requests: int, db: str) -> Counter:
    from tests.support.asgi_server import AsgiServer

    from valetkey.provider.app import create_app
    from valetkey.provider.core import Provider
    from valetkey.provider.settings import build_settings
    from valetkey.provider.store.open import open_store

    _register(db)
    settings = build_settings({"db": db, "access_token_format": token_format}, environ={})
    store = open_store(settings)
    counter = Counter()
    threading.setprofile(counter.profile)  # every thread started from here on
    server = AsgiServer(create_app(Provider(settings, store))).start()
    basic = base64.b64encode(f"{CLIENT}:{SECRET}".encode()).decode()
    headers = {
        "authorization": f"Basic {basic}",
        "content-type": "application/x-www-form-urlencoded",
    }
    try:
        with httpx.Client(base_url=server.url, trust_env=False) as http:
            for i in range(30 + requests):
                if i == 30:
                    counter.started = time.perf_counter()
                counter.on = i >= 30
                answer = http.post("/token", content=BODY, headers=headers)
                if answer.status_code != 200:
                    raise SystemExit(f"token request failed: {answer.status_code} {answer.text}")
            counter.on = False
            counter.seconds = time.perf_counter() - counter.started
    finally:
        threading.setprofile(None)  # type: ignore[arg-type]
        server.stop()
        store.close()
    return counter


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--format", choices=("jwt", "opaque"), default="jwt")
    p.add_argument("--requests", type=int, default=200)
    p.add_argument("--top", type=int, default=0, help="list the files with the most calls")
    p.add_argument("--postgres", action="store_true", help="a fresh local PostgreSQL database")
    a = p.parse_args(argv)
    with _database(a.postgres) as db:
        counter = count(a.format, a.requests, db)
    python = sum(n for (_, py), n in counter.calls.items() if py) / a.requests
    builtin = sum(n for (_, py), n in counter.calls.items() if not py) / a.requests
    print(f"{a.format}: {python:.0f} Python calls and {builtin:.0f} C calls per token request")
    ms = counter.seconds * 1000 / a.requests
    print(f"  {ms:.2f} ms per request, one at a time (wall time: noisy, compare in one run)")
    by_file: collections.Counter[str] = collections.Counter()
    for (place, _), n in counter.calls.items():
        by_file[place] += n
    for place, n in by_file.most_common(a.top):
        print(f"  {n / a.requests:8.1f}  {place}")
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # tests.support
    raise SystemExit(main())

"""Store work off the event loop: a small pool of threads for the handlers that query the
database, and the periodic jobs (key refresh, pruning) that never run inside a request.

A database lock held elsewhere, or a PostgreSQL server that stopped answering, then ties up
at most these threads, each for at most the store's own timeouts (`store/driver.py`); the
loop keeps answering discovery, the JWKS and static files, and every other request gets its
503 when the store gives up.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable, Coroutine
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, TypeVar

from valetkey.provider.store.driver import StoreError

log = logging.getLogger("valetkey.provider")

STORE_WORKERS = 4  # threads (and connections per store); more only contend for the GIL

T = TypeVar("T")


class StoreWorkers:
    """The threads that run store-bound work; each keeps its own connections and, for a
    handler that awaits (login), its own event loop."""

    def __init__(self, workers: int = STORE_WORKERS) -> None:
        self._pool = ThreadPoolExecutor(workers, thread_name_prefix="valetkey-store")
        self._local = threading.local()

    async def run(self, func: Callable[..., T], *args: Any) -> T:
        """`func(*args)` in a worker thread, awaited from the loop."""
        return await asyncio.get_running_loop().run_in_executor(self._pool, func, *args)

    def submit(self, func: Callable[[], object]) -> Future[object]:
        """Start `func` in a worker and do not wait for it."""
        return self._pool.submit(func)

    def drive(self, coroutine: Coroutine[Any, Any, T]) -> T:
        """In a worker thread: run a handler's coroutine to its end on this thread's loop."""
        loop: asyncio.AbstractEventLoop | None = getattr(self._local, "loop", None)
        if loop is None:
            loop = asyncio.new_event_loop()
            self._local.loop = loop
        return loop.run_until_complete(coroutine)


def quietly(job: Callable[[], object], what: str) -> Callable[[], None]:
    """`job`, with a store failure logged in one line (no traceback): for background work."""

    def run() -> None:
        try:
            job()
        except StoreError as exc:
            log.warning("%s skipped: the store is unavailable (%s)", what, exc)
        except Exception:
            log.exception("%s failed", what)

    return run


class Housekeeper:
    """Runs each job every `every` seconds on a daemon thread until stopped."""

    def __init__(self, jobs: list[Callable[[], None]], every: float) -> None:
        self.jobs = jobs
        self.every = every
        self._stop = threading.Event()
        self._thread = threading.Thread(
            target=self._loop, name="valetkey-housekeeping", daemon=True
        )

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()

    def _loop(self) -> None:
        while not self._stop.wait(self.every):
            for job in self.jobs:
                job()

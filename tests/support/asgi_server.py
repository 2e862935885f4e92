"""Serve an ASGI app in a background thread on a free loopback port, for a test's `with`."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from valetkey.client.server import AsgiServer

__all__ = ["AsgiServer", "serving"]


@contextmanager
def serving(app: Any) -> Iterator[AsgiServer]:
    server = AsgiServer(app).start()
    try:
        yield server
    finally:
        server.stop()

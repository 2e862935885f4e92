"""Serve an ASGI app (FastAPI, Starlette, Quart, a test double) with uvicorn in a background
thread on a free loopback port; stopped by telling the server to exit, then joining."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import uvicorn

from valetkey.client.server import free_socket


class AsgiServer:
    def __init__(self, app: Any, sock: socket.socket | None = None, lifespan: str = "off") -> None:
        """`lifespan="on"` for apps that start things at start-up (the MCP SDK's session
        manager)."""
        self.sock = sock or free_socket()
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}"
        config = uvicorn.Config(app, log_level="critical", access_log=False, lifespan=lifespan)
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(
            target=self.server.run, kwargs={"sockets": [self.sock]}, daemon=True
        )

    def start(self) -> AsgiServer:
        self.thread.start()
        deadline = time.monotonic() + 10
        while not self.server.started and time.monotonic() < deadline:
            time.sleep(0.01)
        return self

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=5)
        self.sock.close()


@contextmanager
def serving(app: Any) -> Iterator[AsgiServer]:
    server = AsgiServer(app).start()
    try:
        yield server
    finally:
        server.stop()

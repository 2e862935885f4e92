"""Serve a WSGI or ASGI app on a loopback socket in a background thread (for the demos,
the labs and the tests)."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable
from typing import Any, Literal

from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server

WSGIApp = Callable[..., Any]


def free_socket(host: str = "127.0.0.1", port: int = 0) -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(128)
    return sock


class QuietHandler(WSGIRequestHandler):
    """No access log: a callback URL carries a code, and codes never go to logs."""

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        pass


class BackgroundServer:
    def __init__(self, app: WSGIApp, sock: socket.socket) -> None:
        host, port = sock.getsockname()[:2]
        self.url = f"http://{host}:{port}"
        self._server: BaseWSGIServer = make_server(
            host, port, app, threaded=True, request_handler=QuietHandler, fd=sock.fileno()
        )
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def start(self) -> BackgroundServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)


class AsgiServer:
    """An ASGI app (the MCP server, FastAPI, Starlette, a test double) under uvicorn in a
    background thread; stopped by telling uvicorn to exit, then joining."""

    def __init__(
        self, app: Any, sock: socket.socket | None = None, lifespan: Literal["on", "off"] = "off"
    ) -> None:
        """`lifespan="on"` for apps that start things at start-up (the MCP SDK's session
        manager)."""
        import uvicorn

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

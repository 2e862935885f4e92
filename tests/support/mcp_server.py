"""An MCP server app (the reference one, or one of the zoo's) served on a free loopback port,
with its lifespan run (the SDK's session manager starts there)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

from tests.support.asgi_server import AsgiServer
from valetkey.client.server import free_socket
from valetkey.mcp.guard import App

Build = Callable[[str], App]  # the server's canonical URL -> its app


@contextmanager
def serving_mcp(build: Build) -> Iterator[str]:
    """Yield the served app's MCP endpoint URL (`http://127.0.0.1:PORT/mcp`)."""
    sock = free_socket()
    url = f"http://127.0.0.1:{sock.getsockname()[1]}/mcp"
    server = AsgiServer(build(url), sock, lifespan="on").start()
    try:
        yield url
    finally:
        server.stop()

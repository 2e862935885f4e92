"""Raw HTTP/1.1 over a socket, for requests httpx would refuse to send or would fix up."""

from __future__ import annotations

import contextlib
import socket

from tests.support.sandbox import Sandbox


def address(server: Sandbox) -> tuple[str, int]:
    host, port = server.url.split("//", 1)[1].rsplit(":", 1)
    return host, int(port)


def read_all(sock: socket.socket) -> bytes:
    """Everything until the server closes (a reset ends it too)."""
    out = b""
    with contextlib.suppress(ConnectionResetError):
        while chunk := sock.recv(65536):
            out += chunk
    return out


def exchange(server: Sandbox, data: bytes, timeout: float = 15.0) -> bytes:
    """Send `data` (as far as the server lets us), then read until the server closes."""
    with socket.create_connection(address(server), timeout=timeout) as sock:
        with contextlib.suppress(OSError):  # the server may close before all is sent
            sock.sendall(data)
        return read_all(sock)

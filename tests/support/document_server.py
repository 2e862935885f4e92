"""A small HTTP server on 127.0.0.1 that serves client ID metadata documents (or misbehaves
as a test asks: sleeps, redirects, answers too much), and counts the requests per path."""

from __future__ import annotations

import contextlib
import json
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from tests.support.tls import LoopbackCertificate


@dataclass
class Answer:
    status: int = 200
    body: bytes = b""
    content_type: str = "application/json"
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0  # seconds before the answer (a slow server)
    length: bool = True  # send Content-Length (else the body ends when the connection does)
    gate: threading.Event | None = None  # held until the test sets it
    arrived: threading.Event = field(default_factory=threading.Event)  # set at each request


class DocumentServer:
    """`tls`: serve https with that certificate (an https client_id, as MCP clients send)."""

    def __init__(self, tls: LoopbackCertificate | None = None) -> None:
        self.answers: dict[str, Answer] = {}
        self.hits: Counter[str] = Counter()
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self.httpd.daemon_threads = True
        scheme = "http"
        if tls is not None:
            self.httpd.socket = tls.server_context().wrap_socket(
                self.httpd.socket, server_side=True
            )
            scheme = "https"
        self.url = f"{scheme}://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def start(self) -> DocumentServer:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def document(self, path: str, cache: str = "max-age=600", **fields: Any) -> str:
        """Serve a document at `path` that names itself; its URL (the client id)."""
        url = self.url + path
        body = {"client_id": url, **fields}
        self.answers[path] = Answer(
            body=json.dumps(body).encode(), headers={"cache-control": cache}
        )
        return url


def _handler(server: DocumentServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.0"

        def do_GET(self) -> None:
            server.hits[self.path] += 1
            answer = server.answers.get(self.path, Answer(404, b"{}"))
            answer.arrived.set()
            if answer.gate is not None:
                answer.gate.wait(10)
            if answer.delay:
                time.sleep(answer.delay)
            self.send_response(answer.status)
            self.send_header("content-type", answer.content_type)
            for name, value in answer.headers.items():
                self.send_header(name, value)
            if answer.length:
                self.send_header("content-length", str(len(answer.body)))
            self.end_headers()
            # the sandbox may stop reading (too large, too slow): as it should
            with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                self.wfile.write(answer.body)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    return Handler

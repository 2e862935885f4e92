"""Limits on what one connection can make the server do: header size, header count, time.

uvicorn's httptools protocol has no limit on request headers, and httptools' own buffering
of a long header grows superlinearly: one client sending a huge header could stall the event
loop for every other client. `BoundedHttpToolsProtocol` meters each request head *before*
the parser sees it (a short scan for line ends), answers 414 or 431 and closes as soon as a
limit is passed, and drops connections whose head or body arrives too slowly.
"""

from __future__ import annotations

import asyncio
import logging
from enum import Enum
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

log = logging.getLogger("valetkey.provider")

MAX_REQUEST_LINE = 17 * 1024  # the app's 16 KiB query limit, plus method, path and version
MAX_HEADER_BYTES = 16 * 1024  # all header fields together, line ends included
MAX_HEADER_FIELDS = 100
HEAD_TIMEOUT = 10.0  # seconds from a request's first byte (or the connection) to its last header
BODY_TIMEOUT = 10.0  # seconds from the end of the head to the end of the body
SWEEP_EVERY = 1.0  # seconds between looks for connections past their deadline
MAX_CONNECTIONS = 1000  # more at once are answered 503 by uvicorn (`limit_concurrency`)


class Verdict(Enum):
    MORE = "more"  # the head is not complete yet, and within the limits
    COMPLETE = "complete"
    URI_TOO_LONG = "414 URI Too Long"  # RFC 9110 §15.5.15
    HEADERS_TOO_LARGE = "431 Request Header Fields Too Large"  # RFC 6585 §5


class HeadMeter:
    """Counts one request head's request line, header fields and bytes as they arrive."""

    def __init__(self) -> None:
        self.started = False
        self.request_line_done = False
        self.fields = 0
        self.header_bytes = 0
        self._line = 0  # bytes of the current, unfinished line

    def feed(self, data: bytes) -> tuple[Verdict, int]:
        """The verdict after `data`, and for COMPLETE where in `data` the head ends."""
        if not self.started:
            self.started = True
            end = data.find(b"\r\n\r\n", 0, MAX_HEADER_BYTES)
            if end > 0 and data.count(b"\n", 0, end) <= MAX_HEADER_FIELDS:
                return Verdict.COMPLETE, end + 4  # the usual case: a small head in one read
        pos = 0
        while True:
            end = data.find(b"\n", pos)
            if end < 0:
                self._line += len(data) - pos
                return self._partial(), -1
            length = self._line + end + 1 - pos
            self._line, pos = 0, end + 1
            verdict = self._line_done(length)
            if verdict is not Verdict.MORE:
                return verdict, pos

    def _line_done(self, length: int) -> Verdict:
        blank = length <= 2  # "\r\n" or "\n"
        if not self.request_line_done:
            if blank:  # empty lines before the request line are ignored (RFC 9112 §2.2)
                return Verdict.MORE
            self.request_line_done = True
            return Verdict.URI_TOO_LONG if length > MAX_REQUEST_LINE else Verdict.MORE
        if blank:
            return Verdict.COMPLETE
        self.fields += 1
        self.header_bytes += length
        if self.fields > MAX_HEADER_FIELDS or self.header_bytes > MAX_HEADER_BYTES:
            return Verdict.HEADERS_TOO_LARGE
        return Verdict.MORE

    def _partial(self) -> Verdict:
        if not self.request_line_done:
            return Verdict.URI_TOO_LONG if self._line > MAX_REQUEST_LINE else Verdict.MORE
        if self.header_bytes + self._line > MAX_HEADER_BYTES:
            return Verdict.HEADERS_TOO_LARGE
        return Verdict.MORE


def _plain_response(status_line: str, text: str) -> bytes:
    body = text.encode()
    return (
        f"HTTP/1.1 {status_line}\r\ncontent-type: text/plain; charset=utf-8\r\n"
        f"content-length: {len(body)}\r\nconnection: close\r\n\r\n"
    ).encode() + body


REFUSALS = {
    Verdict.URI_TOO_LONG: _plain_response(
        Verdict.URI_TOO_LONG.value, f"The request line is longer than {MAX_REQUEST_LINE} bytes."
    ),
    Verdict.HEADERS_TOO_LARGE: _plain_response(
        Verdict.HEADERS_TOO_LARGE.value,
        f"The request headers are over {MAX_HEADER_BYTES} bytes or {MAX_HEADER_FIELDS} fields.",
    ),
}
HEAD_TIMED_OUT = _plain_response("408 Request Timeout", "The request headers came too slowly.")


class BoundedHttpToolsProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol with a metered head and head and body deadlines.

    A deadline is a time stamp, not a timer per request: one sweep a second, shared by all
    connections, closes those past theirs (a timer per request cost throughput)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._meter: HeadMeter | None = HeadMeter()
        self._refused = False
        self.deadline: float | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self.deadline = self.loop.time() + HEAD_TIMEOUT  # a silent connection is dropped too
        _watch(self)

    def connection_lost(self, exc: Exception | None) -> None:
        _WATCHED.discard(self)
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        while data and not self._refused and not self.transport.is_closing():
            meter = self._meter
            if meter is None:  # a body, or the next request after it (metered from the next read)
                super().data_received(data)
                return
            if not meter.started:
                self.deadline = self.loop.time() + HEAD_TIMEOUT
            verdict, end = meter.feed(data)
            if verdict in REFUSALS:
                self._refuse(REFUSALS[verdict], verdict.value)
                return
            if verdict is Verdict.MORE:
                super().data_received(data)
                return
            self._meter = None  # COMPLETE: the parser gets the head, then the rest
            super().data_received(data[:end])
            data = data[end:]

    def on_headers_complete(self) -> None:
        self._meter = None
        self.deadline = self.loop.time() + BODY_TIMEOUT
        super().on_headers_complete()

    def on_message_complete(self) -> None:
        self.deadline = None  # until the next request's first byte (keep-alive timeout)
        self._meter = HeadMeter()
        super().on_message_complete()

    def _refuse(self, response: bytes, reason: str) -> None:
        self._refused = True
        self.deadline = None
        log.warning("refused a request from %s: %s", self._peer(), reason)
        if not self.transport.is_closing():
            self.transport.write(response)
            self.transport.close()

    def too_slow(self) -> None:
        """Its deadline passed: close it (with a 408 if it was sending a head)."""
        self.deadline = None
        if self.transport.is_closing():
            return
        meter = self._meter
        if meter is not None and not meter.started:
            self.transport.close()  # an idle connection: nothing to answer
            return
        log.warning("dropped a connection from %s: its request came too slowly", self._peer())
        if meter is not None:
            self.transport.write(HEAD_TIMED_OUT)
        self.transport.close()

    def _peer(self) -> str:
        return f"{self.client[0]}:{self.client[1]}" if self.client else "an unknown peer"


_WATCHED: set[BoundedHttpToolsProtocol] = set()
_SWEEPING: set[asyncio.AbstractEventLoop] = set()


def _watch(protocol: BoundedHttpToolsProtocol) -> None:
    _WATCHED.add(protocol)
    if protocol.loop not in _SWEEPING:
        _SWEEPING.add(protocol.loop)
        protocol.loop.call_later(SWEEP_EVERY, _sweep, protocol.loop)


def _sweep(loop: asyncio.AbstractEventLoop) -> None:
    """Close every connection past its deadline; again in a second."""
    now = loop.time()
    for protocol in [p for p in _WATCHED if p.deadline is not None and p.deadline <= now]:
        protocol.too_slow()
    loop.call_later(SWEEP_EVERY, _sweep, loop)

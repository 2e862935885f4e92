"""H1 (issue 15): one connection must not stall the server. Oversized heads are refused
before parsing, slow clients are dropped, and the number of connections is bounded; all over
real sockets against a real `valetkey serve`."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.support.raw_http import address, exchange, read_all
from tests.support.sandbox import Sandbox, start_sandbox
from valetkey.provider.http_limits import (
    BODY_TIMEOUT,
    HEAD_TIMEOUT,
    MAX_CONNECTIONS,
    MAX_HEADER_BYTES,
    MAX_HEADER_FIELDS,
)

DISCOVERY = "/.well-known/openid-configuration"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sandbox]:
    running = start_sandbox(tmp_path_factory.mktemp("limits"))
    yield running
    running.stop()
    assert "Traceback" not in running.output()


def _head(*fields: bytes, target: bytes = DISCOVERY.encode()) -> bytes:
    lines = [b"GET " + target + b" HTTP/1.1", b"Host: 127.0.0.1", b"Connection: close", *fields]
    return b"\r\n".join(lines) + b"\r\n\r\n"


def _status(response: bytes) -> int:
    return int(response.split(b" ", 2)[1])


def test_headers_just_within_the_limits_are_served(server: Sandbox) -> None:
    fields = [b"x-f%d: v" % i for i in range(MAX_HEADER_FIELDS - 2)]  # + Host, Connection
    assert _status(exchange(server, _head(*fields))) == 200
    big = b"x-big: " + b"a" * (MAX_HEADER_BYTES - 200)
    assert _status(exchange(server, _head(big))) == 200


@pytest.mark.parametrize(
    ("fields", "label"),
    [
        ([b"x-f%d: v" % i for i in range(MAX_HEADER_FIELDS)], "101 fields"),
        ([b"a: b"] * 10_000, "10,000 fields"),
        ([b"x-big: " + b"a" * MAX_HEADER_BYTES], "one field over the byte limit"),
        ([b"x-%d: " % i + b"a" * 1000 for i in range(20)], "20 KiB in 20 fields"),
    ],
)
def test_oversized_heads_are_answered_431(server: Sandbox, fields: list[bytes], label: str) -> None:
    response = exchange(server, _head(*fields))
    assert response.startswith(b"HTTP/1.1 431 Request Header Fields Too Large\r\n"), label
    assert b"connection: close" in response


def test_an_unfinished_head_is_refused_as_soon_as_it_passes_the_limit(server: Sandbox) -> None:
    """The head never ends; the server answers once it has seen too much."""
    with socket.create_connection(address(server), timeout=10) as sock:
        sock.sendall(b"GET / HTTP/1.1\r\nHost: x\r\nX-Long: " + b"a" * (2 * MAX_HEADER_BYTES))
        assert read_all(sock).startswith(b"HTTP/1.1 431 ")


def test_a_request_line_over_the_limit_is_answered_414(server: Sandbox) -> None:
    response = exchange(server, _head(target=b"/authorize?x=" + b"a" * 20_000))
    assert response.startswith(b"HTTP/1.1 414 URI Too Long\r\n")


@pytest.mark.slow
def test_other_clients_are_served_quickly_during_an_8_mib_header(server: Sandbox) -> None:
    results: list[bytes] = []

    def attack() -> None:
        for _ in range(5):
            results.append(exchange(server, _head(b"x-huge: " + b"a" * (8 << 20))))

    attacker = threading.Thread(target=attack)
    attacker.start()
    slowest = 0.0
    with httpx.Client(base_url=server.url, timeout=10) as client:
        while attacker.is_alive():
            started = time.perf_counter()
            assert client.get(DISCOVERY).status_code == 200
            slowest = max(slowest, time.perf_counter() - started)
    attacker.join()
    assert slowest < 1.0  # generous: each answer takes milliseconds
    # each attack is refused with 431, or reset while the attacker was still sending
    assert all(r == b"" or r.startswith(b"HTTP/1.1 431 ") for r in results), results


def _drip(server: Sandbox, head: bytes, piece: bytes, every: float) -> tuple[float, bytes]:
    """Send `head`, then `piece` every `every` seconds until the server answers or closes;
    how long that took, and what it sent."""
    started = time.monotonic()
    with socket.create_connection(address(server), timeout=every) as sock:
        sock.sendall(head)
        while time.monotonic() - started < 3 * HEAD_TIMEOUT:
            try:
                first = sock.recv(65536)
            except TimeoutError:
                sock.sendall(piece)
                continue
            except ConnectionResetError:
                first = b""
            elapsed = time.monotonic() - started
            return elapsed, first + (read_all(sock) if first else b"")
        return time.monotonic() - started, b"(still open)"


@pytest.mark.slow
def test_slow_clients_are_dropped(server: Sandbox) -> None:
    """A header line every 5 s, a body byte every 5 s, and a connection that sends nothing:
    all three are closed once their deadline passes, while the server keeps answering."""
    outcomes: dict[str, tuple[float, bytes]] = {}
    body_head = (
        b"POST /token HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded"
        b"\r\nContent-Length: 100\r\n\r\n"
    )
    runs = {
        "header": (b"GET / HTTP/1.1\r\nHost: x\r\n", b"x-drip: 1\r\n"),
        "body": (body_head, b"a"),
    }

    def run(name: str, head: bytes, piece: bytes) -> None:
        outcomes[name] = _drip(server, head, piece, 5.0)

    threads = [threading.Thread(target=run, args=(n, h, p)) for n, (h, p) in runs.items()]
    for thread in threads:
        thread.start()
    with socket.create_connection(address(server), timeout=HEAD_TIMEOUT + 10) as idle:
        started = time.monotonic()
        assert read_all(idle) == b""
        idle_for = time.monotonic() - started
    assert httpx.get(server.url + DISCOVERY, timeout=5).status_code == 200
    for thread in threads:
        thread.join()
    assert HEAD_TIMEOUT - 1 < idle_for < HEAD_TIMEOUT + 5
    header_time, header_answer = outcomes["header"]
    assert header_time < HEAD_TIMEOUT + 8
    assert header_answer.startswith(b"HTTP/1.1 408 Request Timeout\r\n")
    body_time, body_answer = outcomes["body"]
    assert body_time < BODY_TIMEOUT + 8
    assert body_answer == b""  # closed without an answer: the app saw a disconnect
    assert server.output().count("its request came too slowly") >= 2


@pytest.mark.slow
def test_connections_over_the_bound_are_answered_503(server: Sandbox) -> None:
    held = [socket.create_connection(address(server), timeout=10) for _ in range(MAX_CONNECTIONS)]
    try:
        time.sleep(0.5)  # let the server accept them all
        assert httpx.get(server.url + DISCOVERY, timeout=10).status_code == 503
    finally:
        for sock in held:
            sock.close()
    deadline = time.monotonic() + 10
    while httpx.get(server.url + DISCOVERY, timeout=10).status_code != 200:
        assert time.monotonic() < deadline
        time.sleep(0.1)


def test_pipelined_requests_are_all_answered(server: Sandbox) -> None:
    one = b"GET /jwks.json HTTP/1.1\r\nHost: x\r\n\r\n"
    answer = exchange(server, one * 50 + _head())
    assert answer.count(b"HTTP/1.1 200 OK\r\n") == 51


def test_headers_within_limits_across_many_small_reads(server: Sandbox, tmp_path: Path) -> None:
    with socket.create_connection(address(server), timeout=10) as sock:
        for i in range(0, len(head := _head(b"x-a: " + b"b" * 5000)), 700):
            sock.sendall(head[i : i + 700])
        assert read_all(sock).startswith(b"HTTP/1.1 200 OK\r\n")

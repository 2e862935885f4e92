"""The request-head meter on its own: limits, line ends split across reads, leading CRLF."""

from __future__ import annotations

import pytest

from valetkey.provider.http_limits import (
    MAX_HEADER_BYTES,
    MAX_HEADER_FIELDS,
    MAX_REQUEST_LINE,
    HeadMeter,
    Verdict,
)

HEAD = b"GET / HTTP/1.1\r\nHost: x\r\n\r\n"


def _feed(*pieces: bytes) -> tuple[Verdict, int]:
    meter = HeadMeter()
    verdict, end = Verdict.MORE, -1
    for piece in pieces:
        verdict, end = meter.feed(piece)
        if verdict is not Verdict.MORE:
            break
    return verdict, end


def test_a_complete_head_ends_after_its_blank_line() -> None:
    assert _feed(HEAD + b"body") == (Verdict.COMPLETE, len(HEAD))


@pytest.mark.parametrize("cut", range(1, len(HEAD)))
def test_a_head_split_anywhere_completes_at_the_same_place(cut: int) -> None:
    meter = HeadMeter()
    assert meter.feed(HEAD[:cut]) == (Verdict.MORE, -1)
    assert meter.feed(HEAD[cut:] + b"rest") == (Verdict.COMPLETE, len(HEAD) - cut)


def test_empty_lines_before_the_request_line_are_ignored() -> None:
    assert _feed(b"\r\n\r\n" + HEAD) == (Verdict.COMPLETE, len(HEAD) + 4)


def test_limits() -> None:
    fields = b"".join(b"f%d: v\r\n" % i for i in range(MAX_HEADER_FIELDS + 1))
    assert _feed(b"GET / HTTP/1.1\r\n" + fields)[0] is Verdict.HEADERS_TOO_LARGE
    unfinished = b"GET / HTTP/1.1\r\nx: " + b"a" * MAX_HEADER_BYTES
    assert _feed(unfinished)[0] is Verdict.HEADERS_TOO_LARGE
    assert _feed(b"GET /" + b"a" * MAX_REQUEST_LINE)[0] is Verdict.URI_TOO_LONG
    many_reads = [b"GET / HTTP/1.1\r\nx: "] + [b"a" * 100] * (MAX_HEADER_BYTES // 100 + 1)
    assert _feed(*many_reads)[0] is Verdict.HEADERS_TOO_LARGE

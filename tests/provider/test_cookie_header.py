"""The Cookie header read back into names and values (RFC 6265 §5.4)."""

from __future__ import annotations

import pytest

from valetkey.provider.app import cookies


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("", {}),
        ("vk_browser=abc-_123", {"vk_browser": "abc-_123"}),
        ("a=1; b=2", {"a": "1", "b": "2"}),
        ("a=1;b=2", {"a": "1", "b": "2"}),  # no space: still two pairs
        ("a=1; a=2", {"a": "1"}),  # the longer path's cookie comes first (§5.4 step 2)
        ("a=x=y", {"a": "x=y"}),  # the value runs to the next ";"
        ("junk; a=1; =nameless; b=", {"a": "1", "b": ""}),  # a bad pair spoils nothing else
        ('a="quoted"', {"a": '"quoted"'}),  # the quotes are the value's (§4.1.1)
        ("a=1; b=x\x00y; c=3", {"a": "1", "c": "3"}),  # a control character (§4.1.1)
    ],
)
def test_cookie_header_pairs(header: str, expected: dict[str, str]) -> None:
    assert cookies(header) == expected

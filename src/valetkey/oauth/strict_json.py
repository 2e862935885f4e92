"""JSON from untrusted senders (tokens, proofs, admin bodies), read strictly.

`json.loads` accepts `NaN` and `Infinity` (not JSON: RFC 8259 §6), raises `RecursionError`
rather than `ValueError` on deeply nested input, and lets lone surrogates (`"\\ud800"`)
through into strings that cannot be encoded later. Here all three are a `ValueError`.
"""

from __future__ import annotations

import json
from typing import Any

MAX_DEPTH = 32  # no request of ours nests deeper than a few levels


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number (RFC 8259 §6)")


def _depth_ok(text: str) -> bool:
    """Is the nesting (brackets outside strings) at most MAX_DEPTH? Checked before parsing,
    so a deep value is refused without the parser recursing into it."""
    if text.count("[") + text.count("{") <= MAX_DEPTH:
        return True
    depth, in_string, escaped = 0, False, False
    for char in text:
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
            if depth > MAX_DEPTH:
                return False
        elif char in "]}":
            depth -= 1
    return True


def loads(text: str | bytes) -> Any:
    """Parse JSON; ValueError for NaN/Infinity, nesting over MAX_DEPTH, or lone surrogates."""
    if isinstance(text, bytes):
        text = text.decode("utf-8")  # UnicodeDecodeError is a ValueError
    if not _depth_ok(text):
        raise ValueError(f"the JSON nests deeper than {MAX_DEPTH} levels")
    try:
        value = json.loads(text, parse_constant=_no_constant)
    except RecursionError:
        raise ValueError("the JSON nests too deeply") from None
    try:
        json.dumps(value, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("the JSON contains a lone surrogate (not valid Unicode)") from None
    return value


def loads_object(text: str | bytes) -> dict[str, Any]:
    """Parse a JSON object (a dict); anything else is a ValueError."""
    value = loads(text)
    if not isinstance(value, dict):
        raise ValueError("expected a JSON object")
    return value

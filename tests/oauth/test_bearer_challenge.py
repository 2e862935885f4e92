"""A challenge parameter's text (RFC 6750 §3)."""

from __future__ import annotations

import pytest

from valetkey.oauth.bearer_challenge import quoted_param


@pytest.mark.parametrize(
    ("text", "safe"),
    [
        ("the token expired", "the token expired"),
        ('say "hi"', "say ?hi?"),
        ("a\\b", "a?b"),
        ("line\nbreak", "line?break"),
        ("café", "caf?"),
        ("photos.read photos.print", "photos.read photos.print"),
    ],
)
def test_only_the_grammar_of_rfc_6750_leaves(text: str, safe: str) -> None:
    assert quoted_param(text) == safe

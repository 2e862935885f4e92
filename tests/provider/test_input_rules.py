"""Strict JSON from untrusted senders, and usernames that cannot be confused."""

from __future__ import annotations

import re

import pytest

from valetkey.oauth import strict_json
from valetkey.provider import usernames


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("[" * 1000 + "]" * 1000, "nests deeper than 32"),
        ('{"iat": NaN}', "NaN is not a JSON number"),
        ('{"iat": Infinity}', "Infinity is not a JSON number"),
        ('{"iat": -Infinity}', "-Infinity is not a JSON number"),
        ('"\\ud800"', "lone surrogate"),
        (b"\xff", "utf-8"),
    ],
)
def test_strict_json_refuses(text: str | bytes, reason: str) -> None:
    with pytest.raises(ValueError, match=re.escape(reason)):
        strict_json.loads(text)


def test_strict_json_counts_brackets_outside_strings_only() -> None:
    value = {"state": "[" * 100, "n": [[1]]}
    assert strict_json.loads('{"state": "' + "[" * 100 + '", "n": [[1]]}') == value
    with pytest.raises(ValueError, match="expected a JSON object"):
        strict_json.loads_object("[1]")


@pytest.mark.parametrize(
    ("name", "same_as"),
    [
        ("Alice", "alice"),
        (" alice ", "alice"),
        ("ALICE", "alice"),
        ("\uff41lice", "alice"),
        ("\u0430\u043e\u0435", "aoe"),
    ],
)
def test_look_alikes_share_an_account_key(name: str, same_as: str) -> None:
    assert usernames.account_key(name) == usernames.account_key(same_as)


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("\u0430lice", "mixes scripts"),
        ("a/b", "must not contain '/'"),
        ("a\u200bb", "control or format characters"),
        ("a\nb", "control or format characters"),
        ("   ", "1 to 150 characters"),
        ("x" * 151, "1 to 150 characters"),
    ],
)
def test_usernames_refused(name: str, reason: str) -> None:
    with pytest.raises(usernames.UsernameError, match=re.escape(reason)):
        usernames.validate(name)


def test_usernames_are_stored_in_display_form() -> None:
    assert usernames.validate("  Ada Lovelace ") == "Ada Lovelace"
    assert usernames.validate("\uff21da") == "Ada"  # fullwidth A, NFKC
    assert usernames.account_key("alice") != usernames.account_key("alicia")

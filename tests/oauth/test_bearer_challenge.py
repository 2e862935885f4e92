"""A challenge parameter's text (RFC 6750 §3)."""

from __future__ import annotations

import pytest

from valetkey.oauth.bearer_challenge import challenge_params, challenges, quoted_param


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


@pytest.mark.parametrize(
    ("header", "params"),
    [
        (
            'Bearer resource_metadata="https://mcp.example/.well-known/oauth-protected-resource'
            '/mcp", scope="photos.read"',
            {
                "resource_metadata": "https://mcp.example/.well-known/oauth-protected-resource/mcp",
                "scope": "photos.read",
            },
        ),
        (  # a quoted-pair inside a quoted-string (RFC 9110 §5.6.4)
            'Bearer error="invalid_token", error_description="the \\"exp\\" passed"',
            {"error": "invalid_token", "error_description": 'the "exp" passed'},
        ),
        ("bearer ERROR=insufficient_scope,scope=a", {"error": "insufficient_scope", "scope": "a"}),
        (  # another challenge first, with a comma and "Bearer" inside its quoted value
            'DPoP algs="ES256", error_description="x, Bearer y=z", Bearer realm="v"',
            {"realm": "v"},
        ),
        ("Bearer", {}),
        ('Bearer realm="a", realm="b"', {"realm": "a"}),  # the first wins
    ],
)
def test_challenge_params_follow_the_auth_param_grammar(
    header: str, params: dict[str, str]
) -> None:
    assert challenge_params(header) == params


@pytest.mark.parametrize("header", ["", 'Basic realm="x"', "Bearerx a=b", "Negotiate abc=="])
def test_no_bearer_challenge_is_none(header: str) -> None:
    assert challenge_params(header) is None


def test_every_challenge_is_read() -> None:
    assert challenges('Basic realm="a", DPoP algs="ES256 PS256"') == {
        "basic": {"realm": "a"},
        "dpop": {"algs": "ES256 PS256"},
    }

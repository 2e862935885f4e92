"""Where a client looks for authorization-server metadata, and what makes it refuse it."""

from __future__ import annotations

import pytest

from valetkey.oauth.server_metadata import metadata_problem, metadata_urls

GOOD = {
    "issuer": "https://as.example",
    "authorization_endpoint": "https://as.example/authorize",
    "token_endpoint": "https://as.example/token",
    "code_challenge_methods_supported": ["S256"],
}


def test_an_issuer_without_a_path() -> None:
    assert metadata_urls("https://as.example") == (
        "https://as.example/.well-known/oauth-authorization-server",
        "https://as.example/.well-known/openid-configuration",
    )
    assert metadata_urls("https://as.example/") == metadata_urls("https://as.example")


def test_an_issuer_with_a_path_in_mcps_order() -> None:
    assert metadata_urls("https://as.example/tenants/acme") == (
        "https://as.example/.well-known/oauth-authorization-server/tenants/acme",
        "https://as.example/.well-known/openid-configuration/tenants/acme",
        "https://as.example/tenants/acme/.well-known/openid-configuration",
    )


def test_good_metadata_is_used() -> None:
    assert metadata_problem(GOOD, "https://as.example") is None


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        (
            {"issuer": "https://evil.example"},
            "its issuer 'https://evil.example' is not 'https://as.example', the issuer it was "
            "looked up for (RFC 8414 §3.3)",
        ),
        (
            {"code_challenge_methods_supported": ["plain"]},
            "it does not list S256 in code_challenge_methods_supported, so PKCE cannot be "
            "relied on (MCP authorization; RFC 7636 §4.2)",
        ),
        (
            {"code_challenge_methods_supported": None},
            "it does not list S256 in code_challenge_methods_supported, so PKCE cannot be "
            "relied on (MCP authorization; RFC 7636 §4.2)",
        ),
        ({"token_endpoint": None}, "it has no token_endpoint (RFC 8414 §2)"),
    ],
)
def test_metadata_a_client_must_refuse(change: dict[str, object], problem: str) -> None:
    document = {k: v for k, v in {**GOOD, **change}.items() if v is not None}
    assert metadata_problem(document, "https://as.example") == problem


def test_an_issuer_with_a_trailing_slash_is_another_issuer() -> None:
    assert metadata_problem(GOOD, "https://as.example/") is not None  # byte for byte
    assert metadata_problem([GOOD], "https://as.example") == "the metadata is not a JSON object"

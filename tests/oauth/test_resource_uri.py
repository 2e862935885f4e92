"""What a resource indicator may be (RFC 8707 §2) and its canonical form."""

from __future__ import annotations

import pytest

from valetkey.oauth.resource_uri import canonical_resource, resource_problem


@pytest.mark.parametrize(
    ("given", "canonical"),
    [
        ("http://127.0.0.1:8790/mcp", "http://127.0.0.1:8790/mcp"),
        ("HTTPS://MCP.Example:443/Path", "https://mcp.example/Path"),  # the path keeps its case
        ("https://mcp.example", "https://mcp.example"),
        ("https://mcp.example/", "https://mcp.example/"),
        ("http://localhost:80/x", "http://localhost/x"),
        ("http://[::1]:8790/x", "http://[::1]:8790/x"),
        ("https://bücher.example/x", "https://xn--bcher-kva.example/x"),
    ],
)
def test_canonical_forms(given: str, canonical: str) -> None:
    assert canonical_resource(given) == canonical


@pytest.mark.parametrize(
    ("given", "problem"),
    [
        ("/mcp", "must be an absolute https URL, or http to a loopback address (RFC 8707 §2)"),
        ("mcp.example/x", "must be an absolute https URL, or http to a loopback address"),
        ("urn:example:mcp", "must be an absolute https URL, or http to a loopback address"),
        ("https://a.example/x#", "must not contain a fragment (RFC 8707 §2)"),
        ("https://a.example/x?", "must not contain a query (RFC 8707 §2)"),
        ("http://a.example/x", "must use https unless it points at a loopback address"),
        ("https://user@a.example/x", "must not contain userinfo"),
        ("https:///x", "must be an absolute URL with a host (RFC 8707 §2)"),
        ("https://a.example/x y", "must not contain spaces or control characters"),
        ("https://a.example:99999/", "is not a valid URL"),
        ("https://a.example/" + "x" * 2000, "must be at most 2000 characters"),
    ],
)
def test_problems(given: str, problem: str) -> None:
    found = resource_problem(given)
    assert found is not None
    assert found.startswith(problem)

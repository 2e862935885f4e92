"""The one redirect-URI validator, as a table: what is refused and why, what is stored."""

from __future__ import annotations

import re

import pytest

from valetkey.oauth.redirect_uris import (
    RedirectUriError,
    loose_redirect_uri_problem,
    normalize_redirect_uri,
    redirect_uri_problem,
)

REFUSED = [
    ("http://evil.example\\@127.0.0.1/cb", "backslash"),
    ("http://evil.example@127.0.0.1/cb", "userinfo"),
    ("https://user:pw@a.example/cb", "userinfo"),
    ("http://a.example/cb", "must use https unless it points at a loopback address"),
    ("ws://127.0.0.1/cb", "not ws:"),
    ("wss://a.example/cb", "not wss:"),
    ("ftp://a.example/cb", "not ftp:"),
    ("view-source:https://a.example/cb", "not view-source:"),
    ("javascript:alert(1)", "not javascript:"),
    ("data:text/html,x", "not data:"),
    ("file:///etc/passwd", "not file:"),
    ("myapp:/cb", "not myapp:"),  # RFC 8252 §7.1: reverse-domain form only
    ("com.example.app://host/cb", "has no host"),
    ("https://a.example/cb\r\nSet-Cookie: x=1", "control characters"),
    ("https://a.example/c\tb", "control characters"),
    ("https://a.example/c\x00b", "control characters"),
    ("https://a.example/c\x85b", "control characters"),
    ("https://a.example/my cb", "spaces"),
    ("https://a.example/cb%zz", "escapes of two hex digits"),
    ("https://a.example/cb%4", "escapes of two hex digits"),
    ("https://a.example/cb#", "fragment"),
    ("https://a.example/cb#x", "fragment"),
    ("https://*.a.example/cb", "wildcard"),
    ("https://a.example/ü", "percent-encode characters outside ASCII"),
    ("https://a..example/cb", "valid host name"),
    ("https://-a.example/cb", "valid host name"),
    ("https://a.example:99999/cb", "is not a valid URL"),
    ("https:///cb", "with a host"),
    ("/relative/cb", "must be an absolute URL"),
    ("https://" + "a" * 2000 + ".example/", "at most 2000 characters"),
]

ACCEPTED = [
    ("https://a.example/cb", "https://a.example/cb"),
    ("https://a.example/cb?x=1&y=%C3%BC", "https://a.example/cb?x=1&y=%C3%BC"),
    ("http://127.0.0.1:8500/callback", "http://127.0.0.1:8500/callback"),
    ("http://localhost:3000/cb", "http://localhost:3000/cb"),
    ("http://[::1]:8080/cb", "http://[::1]:8080/cb"),
    ("com.example.app:/oauth2redirect", "com.example.app:/oauth2redirect"),
    ("https://bücher.example/cb", "https://xn--bcher-kva.example/cb"),
    ("https://bücher.example:8443/cb?q=1", "https://xn--bcher-kva.example:8443/cb?q=1"),
    ("https://xn--bcher-kva.example/cb", "https://xn--bcher-kva.example/cb"),
]


@pytest.mark.parametrize(("uri", "reason"), REFUSED)
def test_refused(uri: str, reason: str) -> None:
    with pytest.raises(RedirectUriError, match=re.escape(reason)) as caught:
        normalize_redirect_uri(uri)
    assert redirect_uri_problem(uri) == str(caught.value)  # the same rule at /authorize


@pytest.mark.parametrize(("uri", "stored"), ACCEPTED)
def test_accepted_and_stored_in_ascii(uri: str, stored: str) -> None:
    assert normalize_redirect_uri(uri) == stored
    assert stored.isascii()
    problem = redirect_uri_problem(uri)
    if uri == stored:
        assert problem is None
    else:  # used as it is at /authorize, an IDN URI is refused before any code (never a 500)
        assert problem == f"must be registered in its ASCII form: {stored}"


def test_the_lab_keeps_only_header_safety() -> None:
    """LAB loose-redirect lets userinfo tricks through, never a broken Location header."""
    assert loose_redirect_uri_problem("http://127.0.0.1:8500@127.0.0.1:9/steal") is None
    assert loose_redirect_uri_problem("https://a.example/\r\nx") is not None
    assert loose_redirect_uri_problem("https://bücher.example/cb") == "must be ASCII"

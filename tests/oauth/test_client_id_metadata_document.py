"""The CIMD rules that need no network: which URLs can be a client id, how long a document
is kept, and the SSRF guard's decision."""

from __future__ import annotations

import pytest

from valetkey.oauth.client_id_metadata_document import (
    CACHE_CEILING,
    CACHE_DEFAULT,
    CACHE_FLOOR,
    cache_lifetime,
    document_url_problem,
    is_document_url,
    target_refusal,
)


@pytest.mark.parametrize(
    "url",
    [
        "https://app.example/client.json",
        "https://app.example:8443/oauth/client-metadata?v=2",
        "http://127.0.0.1:9000/client.json",
        "http://[::1]:9000/client.json",
        "http://localhost/client.json",
    ],
)
def test_urls_that_can_name_a_document(url: str) -> None:
    assert is_document_url(url)
    assert document_url_problem(url) is None


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        ("https://app.example", "must have a path (https://app.example/client.json)"),
        ("https://app.example/", "must have a path (https://app.example/client.json)"),
        ("https://app.example/a#b", "must not contain a fragment"),
        ("https://u:p@app.example/c.json", "must not contain userinfo (user@host)"),
        ("https://app.example/a/./c.json", "must not contain . or .. path segments"),
        ("https://app.example/../c.json", "must not contain . or .. path segments"),
        ("http://app.example/c.json", "must use https (http only to a loopback address)"),
        ("https:///c.json", "must be an https URL with a host"),
        ("https://app.example:99999/c.json", "must be a valid URL"),
        ("https://app.example/" + "a" * 300, "must be at most 255 ASCII characters without spaces"),
        ("https://app.example/ c.json", "must be at most 255 ASCII characters without spaces"),
        ("https://bücher.example/c.json", "must be at most 255 ASCII characters without spaces"),
    ],
)
def test_urls_that_cannot(url: str, problem: str) -> None:
    assert document_url_problem(url) == problem


def test_a_plain_client_id_is_no_document_url() -> None:
    assert not is_document_url("photo-printer")
    assert not is_document_url("dyn-abc")


@pytest.mark.parametrize(
    ("header", "seconds"),
    [
        (None, CACHE_DEFAULT),
        ("", CACHE_DEFAULT),
        ("public", CACHE_DEFAULT),
        ("max-age=600", 600.0),
        ("public, max-age=120", 120.0),
        ('max-age="300"', 300.0),
        ("s-maxage=5, max-age=900", 900.0),
        ("max-age=1", CACHE_FLOOR),
        ("max-age=0", CACHE_FLOOR),
        ("no-store", CACHE_FLOOR),
        ("no-cache, max-age=600", CACHE_FLOOR),
        ("max-age=99999999", CACHE_CEILING),
        ("max-age=abc", CACHE_DEFAULT),
    ],
)
def test_cache_lifetime_follows_max_age_between_floor_and_ceiling(
    header: str | None, seconds: float
) -> None:
    assert cache_lifetime(header) == seconds


@pytest.mark.parametrize("host", ["127.0.0.1", "127.5.6.7", "::1", "localhost", "LOCALHOST"])
def test_the_guard_lets_loopback_through(host: str) -> None:
    assert target_refusal(host, ()) is None


@pytest.mark.parametrize(
    "host", ["app.example", "10.0.0.1", "169.254.169.254", "192.168.1.1", "::ffff:10.0.0.1", "vm"]
)
def test_the_guard_refuses_other_hosts_by_default(host: str) -> None:
    refusal = target_refusal(host, ())
    assert refusal == (
        f"the sandbox fetches client metadata documents only from loopback; {host!r} is not "
        f"loopback: start it with --cimd-allow {host} to allow it"
    )


def test_cimd_allow_names_exact_hosts() -> None:
    allowed = ("app.example", "[2001:db8::1]")
    assert target_refusal("app.example", allowed) is None
    assert target_refusal("App.Example.", allowed) is None
    assert target_refusal("2001:db8::1", allowed) is None
    assert target_refusal("evil.app.example", allowed) is not None
    assert target_refusal("app.example.evil", allowed) is not None

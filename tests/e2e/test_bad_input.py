"""Malformed, missing, duplicated, oversized and wrongly typed input: the RFC error, never 500.

Each row: method, path, how to send, what to send, the status and error code expected.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.support.sandbox import Sandbox

FORM = {"content-type": "application/x-www-form-urlencoded"}
BIG = "a" * 5000
HUGE = b"a=" + b"b" * (70 * 1024)

# (method, path, kwargs for httpx, status, error or None for an HTML page, use client auth)
TOKEN_ROWS: list[tuple[str, dict[str, Any], int, str, bool]] = [
    ("empty body", {"content": b"", "headers": FORM}, 400, "invalid_request", True),
    ("json body", {"json": {"grant_type": "client_credentials"}}, 400, "invalid_request", True),
    (
        "bad percent",
        {"content": b"grant_type=%ZZ%E9", "headers": FORM},
        400,
        "invalid_request",
        True,
    ),
    (
        "not utf-8",
        {"content": b"grant_type=\xff\xfe", "headers": FORM},
        400,
        "invalid_request",
        True,
    ),
    (
        "too many fields",
        {"content": b"&".join(b"f%d=1" % i for i in range(100)), "headers": FORM},
        400,
        "invalid_request",
        True,
    ),
    (
        "oversized value",
        {"data": {"grant_type": "authorization_code", "code": BIG}},
        400,
        "invalid_request",
        True,
    ),
    ("oversized body", {"content": HUGE, "headers": FORM}, 413, "invalid_request", True),
    ("unknown grant", {"data": {"grant_type": "urn:x"}}, 400, "unsupported_grant_type", True),
    ("no grant", {"data": {"code": "x"}}, 400, "invalid_request", True),
    ("no code", {"data": {"grant_type": "authorization_code"}}, 400, "invalid_request", True),
    (
        "unknown code",
        {
            "data": {
                "grant_type": "authorization_code",
                "code": "nope",
                "redirect_uri": "http://127.0.0.1:8500/callback",
            }
        },
        400,
        "invalid_grant",
        True,
    ),
    ("no refresh", {"data": {"grant_type": "refresh_token"}}, 400, "invalid_request", True),
    (
        "bad refresh",
        {"data": {"grant_type": "refresh_token", "refresh_token": "x"}},
        400,
        "invalid_grant",
        True,
    ),
    (
        "basic not b64",
        {"data": {"grant_type": "client_credentials"}, "headers": {"authorization": "Basic !!!"}},
        401,
        "invalid_client",
        False,
    ),
    (
        "basic no colon",
        {"data": {"grant_type": "client_credentials"}, "headers": {"authorization": "Basic YWJj"}},
        401,
        "invalid_client",
        False,
    ),
    (
        "bearer at token",
        {"data": {"grant_type": "client_credentials"}, "headers": {"authorization": "Bearer abc"}},
        401,
        "invalid_client",
        False,
    ),
    (
        "no auth at all",
        {"data": {"grant_type": "client_credentials"}},
        401,
        "invalid_client",
        False,
    ),
    (
        "unknown param ignored",
        {"data": {"grant_type": "refresh_token", "refresh_token": "x", "extra": "1"}},
        400,
        "invalid_grant",
        True,
    ),
]


@pytest.mark.parametrize(
    ("name", "kwargs", "status", "error", "with_auth"),
    TOKEN_ROWS,
    ids=[row[0] for row in TOKEN_ROWS],
)
def test_token_endpoint_bad_input(
    sandbox: Sandbox, name: str, kwargs: dict[str, Any], status: int, error: str, with_auth: bool
) -> None:
    auth = ("photo-printer", sandbox.secret) if with_auth else None
    response = httpx.post(sandbox.issuer + "/token", auth=auth, **kwargs)  # type: ignore[arg-type]
    assert response.status_code == status, response.text
    assert response.json()["error"] == error
    assert "Traceback" not in response.text


@pytest.mark.parametrize("method", ["PUT", "DELETE", "PATCH"])
def test_token_other_methods(sandbox: Sandbox, method: str) -> None:
    response = httpx.request(method, sandbox.issuer + "/token")
    assert response.status_code == 405
    assert response.json()["error"] == "invalid_request"


AUTHORIZE_PAGE_ROWS = [
    ("nothing", ""),
    ("bad percent", "client_id=%ZZ"),
    ("not utf-8", "client_id=%FF%FE"),
    (
        "client twice",
        "client_id=photo-printer&client_id=photo-printer-spa"
        "&redirect_uri=http%3A%2F%2F127.0.0.1%3A8500%2Fcallback",
    ),
    (
        "redirect twice",
        "client_id=photo-printer&redirect_uri=http%3A%2F%2F127.0.0.1%3A8500"
        "%2Fcallback&redirect_uri=http%3A%2F%2Fevil.example%2F",
    ),
    ("huge client id", "client_id=" + "x" * 5000),
    ("too long URL", "client_id=photo-printer&state=" + "s" * 17000),
    ("many fields", "&".join(f"f{i}=1" for i in range(100))),
    ("nul byte", "client_id=photo%00printer"),
]


@pytest.mark.parametrize(
    ("name", "query"), AUTHORIZE_PAGE_ROWS, ids=[row[0] for row in AUTHORIZE_PAGE_ROWS]
)
def test_authorize_bad_input_is_a_page(sandbox: Sandbox, name: str, query: str) -> None:
    response = httpx.get(f"{sandbox.issuer}/authorize?{query}")
    assert response.status_code == 400
    assert "location" not in response.headers
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    assert "Traceback" not in response.text


JSON_ENDPOINT_ROWS = [
    ("POST", "/revoke", {"data": {"token": "x"}}, 401, "invalid_client"),
    ("POST", "/revoke", {"data": {}}, 400, "invalid_request"),
    ("POST", "/revoke", {"data": {"token": "x"}, "auth": True}, 200, None),
    ("POST", "/revoke", {"data": {}, "auth": True}, 400, "invalid_request"),
    (
        "POST",
        "/revoke",
        {"data": {"token": "x", "token_type_hint": "weird"}, "auth": True},
        400,
        "unsupported_token_type",
    ),
    ("POST", "/introspect", {"data": {}, "auth": True}, 400, "invalid_request"),
    (
        "POST",
        "/introspect",
        {"content": b"token=%E9", "headers": FORM, "auth": True},
        400,
        "invalid_request",
    ),
    ("GET", "/userinfo", {"headers": {"authorization": "Bearer"}}, 400, "invalid_request"),
    ("GET", "/userinfo", {"headers": {"authorization": "Basic abc"}}, 400, "invalid_request"),
    ("GET", "/userinfo", {"headers": {"authorization": "Bearer a b"}}, 400, "invalid_request"),
    (
        "GET",
        "/userinfo",
        {"headers": {"authorization": "Bearer " + "x" * 3000}},
        401,
        "invalid_token",
    ),
    ("GET", "/api/photos", {"headers": {"authorization": "Bearer a.b.c"}}, 401, "invalid_token"),
    (
        "GET",
        "/api/photos",
        {"headers": {"authorization": "Bearer e30.e30.e30"}},
        401,
        "invalid_token",
    ),
    ("POST", "/userinfo", {"data": {"access_token": "x"}}, 400, "invalid_request"),
]


@pytest.mark.parametrize(("method", "path", "kwargs", "status", "error"), JSON_ENDPOINT_ROWS)
def test_json_endpoints_bad_input(
    sandbox: Sandbox,
    method: str,
    path: str,
    kwargs: dict[str, Any],
    status: int,
    error: str | None,
) -> None:
    options = dict(kwargs)
    if options.pop("auth", False):
        options["auth"] = ("photo-printer", sandbox.secret)
    response = httpx.request(method, sandbox.issuer + path, **options)
    assert response.status_code == status, response.text
    if error is not None:
        assert response.json()["error"] == error


PAGE_POST_ROWS = [
    ("/login", {}),
    ("/login", {"csrf": "x", "username": "alice"}),
    ("/consent", {"decision": "allow"}),
    ("/account/revoke", {"client_id": "photo-printer"}),
    ("/logout", {"csrf": "x"}),
]


@pytest.mark.parametrize(("path", "data"), PAGE_POST_ROWS)
def test_page_posts_without_csrf_are_403(sandbox: Sandbox, path: str, data: dict[str, str]) -> None:
    response = httpx.post(sandbox.issuer + path, data=data)
    assert response.status_code == 403
    assert "This form has expired" in response.text


def test_login_with_unknown_request_id(sandbox: Sandbox) -> None:
    response = httpx.get(sandbox.issuer + "/login", params={"request": "nope"})
    assert response.status_code == 400
    assert "expired" in response.text


def test_garbage_cookie_header(sandbox: Sandbox) -> None:
    response = httpx.get(
        sandbox.issuer + "/account",
        headers={"cookie": 'vk_session="unterminated; vk_browser=;;=; =x'},
    )
    assert response.status_code == 302

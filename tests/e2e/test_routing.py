"""The sandbox's own ASGI routing: unknown paths, wrong methods, HEAD, tenant prefixes."""

from __future__ import annotations

import httpx

from tests.support.sandbox import Sandbox


def test_unknown_path_is_a_404_page_with_the_page_headers(sandbox: Sandbox) -> None:
    response = httpx.get(sandbox.issuer + "/no/such/page")
    assert response.status_code == 404
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    assert response.headers["x-frame-options"] == "DENY"
    assert "There is no page at this address." in response.text
    assert httpx.get(sandbox.issuer + "/token/").status_code == 404  # no slash redirects


def test_wrong_method_on_a_json_endpoint_is_405_invalid_request(sandbox: Sandbox) -> None:
    response = httpx.get(sandbox.issuer + "/revoke")
    assert response.status_code == 405
    assert response.headers["allow"] == "POST"
    assert response.json()["error"] == "invalid_request"
    assert response.headers["cache-control"] == "no-store"


def test_wrong_method_on_a_page_is_a_405_page(sandbox: Sandbox) -> None:
    response = httpx.post(sandbox.issuer + "/account")
    assert response.status_code == 405
    assert response.headers["allow"] == "GET"
    assert response.headers["content-type"] == "text/html; charset=utf-8"


def test_head_answers_like_get_without_a_body(sandbox: Sandbox) -> None:
    url = sandbox.issuer + "/.well-known/openid-configuration"
    got, head = httpx.get(url), httpx.head(url)
    assert head.status_code == 200
    assert head.content == b""
    assert head.headers["content-length"] == str(len(got.content))
    assert head.headers["content-type"] == "application/json"


def test_parameterised_admin_path_takes_one_segment(sandbox: Sandbox) -> None:
    headers = {"authorization": f"Bearer {sandbox.admin_token}"}
    response = httpx.delete(sandbox.issuer + "/admin/users/nobody/extra", headers=headers)
    assert response.status_code == 404
    response = httpx.delete(sandbox.issuer + "/admin/users/nobody-here", headers=headers)
    assert response.status_code == 404
    assert response.json()["error"] == "not_found"

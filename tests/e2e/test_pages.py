"""Login, consent, account and logout pages: headers, CSRF, sessions, revocation."""

from __future__ import annotations

import re

import httpx
import pytest

from tests.support.sandbox import Sandbox, demo_browser, hidden
from valetkey.useragent.agent import UserAgent

PAGE_PATHS = ["/login", "/logout", "/", "/account"]


def _login_page(agent: UserAgent) -> httpx.Response:
    response = agent.authorize(agent.request_params().params)
    return agent.http.get(response.headers["location"])


def _assert_page_headers(response: httpx.Response) -> None:
    csp = response.headers["content-security-policy"]
    assert "frame-ancestors 'none'" in csp  # AS-33
    assert "default-src 'none'" in csp  # AS-34: nothing from elsewhere
    assert response.headers["x-frame-options"] == "DENY"  # AS-33
    assert response.headers["referrer-policy"] == "no-referrer"  # AS-34
    assert response.headers["cache-control"] == "no-store"
    assert "access-control-allow-origin" not in response.headers  # AS-36


def test_login_page_headers_and_no_third_party(agent: UserAgent) -> None:
    page = _login_page(agent)
    assert page.status_code == 200
    _assert_page_headers(page)
    urls = re.findall(r'(?:src|href|action)="([^"]+)"', page.text)
    assert urls, "the page has links"
    assert all(url.startswith("/") for url in urls), urls
    assert 'type="password"' in page.text
    assert "Photo Printer" in page.text


@pytest.mark.parametrize("path", PAGE_PATHS)
def test_every_page_has_the_headers(agent: UserAgent, path: str) -> None:
    response = agent.http.get(path)
    if response.status_code == 302:
        response = agent.http.get(response.headers["location"])
    _assert_page_headers(response)


def test_authorize_response_headers(agent: UserAgent) -> None:
    response = agent.authorize(agent.request_params().params)
    assert "access-control-allow-origin" not in response.headers  # AS-36
    cookie = response.headers["set-cookie"]
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie


def test_login_post_redirect_is_303_and_session_cookie(agent: UserAgent, sandbox: Sandbox) -> None:
    page = _login_page(agent)
    response = agent.http.post(
        "/login",
        data={
            "csrf": hidden(page.text, "csrf"),
            "request": hidden(page.text, "request"),
            "username": "alice",
            "password": sandbox.password("alice"),
        },
    )
    assert response.status_code == 303  # AS-35
    session_cookie = next(
        c for c in response.headers.get_list("set-cookie") if c.startswith("vk_session=")
    )
    assert "HttpOnly" in session_cookie
    assert "SameSite=Lax" in session_cookie


@pytest.mark.parametrize("csrf", ["", "0" * 64, "forged"])
def test_login_without_valid_csrf_is_refused(agent: UserAgent, sandbox: Sandbox, csrf: str) -> None:
    page = _login_page(agent)
    response = agent.http.post(
        "/login",
        data={
            "csrf": csrf,
            "request": hidden(page.text, "request"),
            "username": "alice",
            "password": sandbox.password("alice"),
        },
    )
    assert response.status_code == 403
    assert "This form has expired" in response.text
    assert "vk_session" not in agent.http.cookies


def test_csrf_token_of_another_browser_is_refused(sandbox: Sandbox) -> None:
    attacker, victim = demo_browser(sandbox.issuer), demo_browser(sandbox.issuer)
    try:
        token = hidden(_login_page(attacker).text, "csrf")
        page = _login_page(victim)
        response = victim.http.post(
            "/login",
            data={
                "csrf": token,
                "request": hidden(page.text, "request"),
                "username": "alice",
                "password": sandbox.password("alice"),
            },
        )
        assert response.status_code == 403
    finally:
        attacker.close()
        victim.close()


def test_pending_request_is_bound_to_its_browser(sandbox: Sandbox) -> None:
    first, second = demo_browser(sandbox.issuer), demo_browser(sandbox.issuer)
    try:
        location = first.authorize(first.request_params().params).headers["location"]
        second.http.get("/")  # get a browser cookie of its own
        stolen = second.http.get(location)
        assert stolen.status_code == 400
        assert "expired" in stolen.text
    finally:
        first.close()
        second.close()


def test_account_page_lists_and_revokes(sandbox: Sandbox) -> None:
    sandbox.add_user("erin-account", "erin-password-1", name="Erin Example")
    agent = demo_browser(sandbox.issuer)
    try:
        code, auth = agent.code("erin-account", "erin-password-1")
        tokens = sandbox.redeem(code, auth.verifier).json()
        page = agent.http.get("/account")
        assert page.status_code == 200
        _assert_page_headers(page)
        assert "Hello, Erin Example" in page.text
        assert "Photo Printer" in page.text
        assert "View your photos" in page.text
        revoked = agent.http.post(
            "/account/revoke",
            data={"csrf": hidden(page.text, "csrf"), "client_id": "photo-printer"},
        )
        assert revoked.status_code == 303
        assert revoked.headers["location"] == "/account?revoked=1"
        after = agent.http.get("/account?revoked=1")
        assert "Access revoked" in after.text
        assert "No app has access to your account." in after.text
        headers = {"authorization": f"Bearer {tokens['access_token']}"}
        assert httpx.get(sandbox.issuer + "/api/photos", headers=headers).status_code == 401
        refresh = httpx.post(
            sandbox.issuer + "/token",
            auth=("photo-printer", sandbox.secret),
            data={"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]},
        )
        assert refresh.json()["error"] == "invalid_grant"
        again = agent.authorize(agent.request_params().params)
        assert again.headers["location"].startswith("/consent"), "consent is asked again"
    finally:
        agent.close()


def test_account_without_session_goes_to_login(agent: UserAgent) -> None:
    response = agent.http.get("/account")
    assert response.status_code == 302
    assert response.headers["location"] == "/login"


def test_logout_with_confirmation(agent: UserAgent, sandbox: Sandbox) -> None:
    agent.code("alice", sandbox.password("alice"))
    page = agent.http.get("/logout")
    assert page.status_code == 200
    assert "Sign out?" in page.text
    done = agent.http.post("/logout", data={"csrf": hidden(page.text, "csrf")})
    assert done.status_code == 200
    assert "You are signed out" in done.text
    response = agent.authorize(agent.request_params().params)
    assert response.headers["location"].startswith("/login")


def test_logout_with_id_token_hint_redirects_to_registered_uri(
    agent: UserAgent, sandbox: Sandbox
) -> None:
    code, auth = agent.code("alice", sandbox.password("alice"))
    tokens = sandbox.redeem(code, auth.verifier).json()
    unregistered = agent.http.get(
        "/logout",
        params={
            "id_token_hint": tokens["id_token"],
            "post_logout_redirect_uri": "https://evil.example/",
        },
    )
    assert unregistered.status_code == 200
    assert "location" not in unregistered.headers
    code, auth = agent.code("alice", sandbox.password("alice"))
    tokens = sandbox.redeem(code, auth.verifier).json()
    back = agent.http.get(
        "/logout",
        params={
            "id_token_hint": tokens["id_token"],
            "state": "s1",
            "post_logout_redirect_uri": "http://127.0.0.1:8500/",
        },
    )
    assert back.status_code == 302
    assert back.headers["location"] == "http://127.0.0.1:8500/?state=s1"


def test_stylesheet_is_served_locally(agent: UserAgent) -> None:
    css = agent.http.get("/static/valetkey.css")
    assert css.status_code == 200
    assert css.headers["content-type"] == "text/css"
    assert "http" not in css.text

"""The login, consent and account pages in a real browser: Debian's chromium via Playwright."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, sync_playwright

from tests.support.sandbox import Sandbox, demo_browser

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

pytestmark = [pytest.mark.browser, pytest.mark.slow]


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context()
    opened = context.new_page()
    yield opened
    context.close()


def test_login_consent_and_account_in_chromium(
    page: Page, sandbox: Sandbox, artifacts: Path
) -> None:
    sandbox.add_user("grace-browser", "grace-password-1", name="Grace Hopper")
    third_party: list[str] = []
    page.on(
        "request",
        lambda r: (
            third_party.append(r.url)
            if not r.url.startswith(sandbox.issuer) and "127.0.0.1:8500" not in r.url
            else None
        ),
    )
    auth = demo_browser(sandbox.issuer).request_params()
    query = "&".join(f"{k}={v}" for k, v in auth.params.items())
    page.goto(f"{sandbox.issuer}/authorize?{query}")
    assert page.title() == "Sign in · valetkey"
    assert page.get_by_text("to continue to Photo Printer").is_visible()
    page.get_by_label("Username").fill("grace-browser")
    page.get_by_label("Password").fill("grace-password-1")
    page.screenshot(path=str(artifacts / "sandbox-login.png"), full_page=True)
    with page.expect_navigation():
        page.get_by_role("button", name="Sign in").click()
    assert page.title() == "Allow access? · valetkey"
    assert page.get_by_text("View your photos").is_visible()
    page.screenshot(path=str(artifacts / "sandbox-consent.png"), full_page=True)
    callback: list[str] = []
    page.route(
        "http://127.0.0.1:8500/**",
        lambda route: (callback.append(route.request.url), route.fulfill(body="client here")),
    )
    page.get_by_role("button", name="Allow").click()
    page.wait_for_url("http://127.0.0.1:8500/**")
    assert callback[0].startswith("http://127.0.0.1:8500/callback?code=")
    assert f"state={auth.state}" in callback[0]

    page.goto(f"{sandbox.issuer}/account")
    assert page.get_by_role("heading", name="Hello, Grace Hopper").is_visible()
    assert page.get_by_role("cell", name="Photo Printer photo-printer").is_visible()
    page.screenshot(path=str(artifacts / "sandbox-account.png"), full_page=True)
    page.get_by_role("button", name="Revoke access").click()
    page.wait_for_url("**/account?revoked=1")
    assert page.get_by_text("No app has access to your account.").is_visible()
    assert third_party == []


@pytest.fixture
def framing_site(sandbox: Sandbox) -> Iterator[str]:
    """Another loopback origin whose page frames the JWKS (a control) and the login page."""
    html = (
        f'<iframe name="control" src="{sandbox.issuer}/jwks.json"></iframe>'
        f'<iframe name="login" src="{sandbox.issuer}/login"></iframe>'
    ).encode()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("content-type", "text/html")
            self.send_header("content-length", str(len(html)))
            self.end_headers()
            self.wfile.write(html)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()
    server.server_close()


def test_pages_cannot_be_framed(page: Page, sandbox: Sandbox, framing_site: str) -> None:
    """AS-33 in a browser: the control frame loads, the login page's frame does not."""
    page.goto(framing_site, wait_until="load")
    control = page.frame(name="control")
    login = page.frame(name="login")
    assert control is not None
    assert login is not None
    assert '"keys"' in control.content()
    assert login.url == "chrome-error://chromewebdata/"
    assert 'type="password"' not in login.content()


def test_check_reference_leads_to_an_entry_page_in_chromium(sandbox: Sandbox, page: Page) -> None:
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    missing: list[str] = []
    page.on("response", lambda r: missing.append(r.url) if r.status >= 400 else None)
    page.goto(sandbox.issuer + "/inspector/checks")
    page.click('a[href="/inspector/checks/AS-08"]')
    page.wait_for_url(sandbox.issuer + "/inspector/checks/AS-08")
    assert page.locator("h1").inner_text() == "AS-08 redirect-uri-exact"
    assert page.locator("pre.example").count() == 2
    assert page.locator(".entry-meta dd").nth(1).inner_text() == (
        "RFC 6749 §3.1.2.3; RFC 9700 §4.1.3"
    )
    assert [url for url in requested if not url.startswith(sandbox.issuer)] == []
    assert missing in ([], [sandbox.issuer + "/favicon.ico"])  # the browser's own guess

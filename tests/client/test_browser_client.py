"""The photo-printer app in Debian's chromium: app → sandbox login → consent → photo grid."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, sync_playwright

from tests.client.conftest import running_app, sandbox_config
from tests.e2e.test_browser import CHROMIUM, CHROMIUM_ARGS
from tests.support.sandbox import Sandbox

pytestmark = [pytest.mark.browser, pytest.mark.slow]


@pytest.fixture(scope="module")
def chromium() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@pytest.mark.parametrize("variant", ["steps", "authlib"])
def test_sign_in_through_the_real_pages(
    chromium: Browser, sandbox: Sandbox, artifacts: Path, variant: str
) -> None:
    """Home → sandbox login → consent → alice's photo grid → log out, in each variant."""
    with running_app(variant, lambda origin: sandbox_config(sandbox, origin)) as app:
        context = chromium.new_context(viewport={"width": 1100, "height": 800})
        page = context.new_page()
        page.goto(app.url + "/")
        assert page.get_by_role("heading", name="Print your photos").is_visible()
        page.get_by_role("link", name="Sign in with your photo service").click()
        page.wait_for_url(sandbox.issuer + "/login?**")
        page.get_by_label("Username").fill("alice")
        page.get_by_label("Password").fill(sandbox.password("alice"))
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_url(sandbox.issuer + "/consent?**")
        page.get_by_role("button", name="Allow").click()
        page.wait_for_url(app.url + "/photos")
        assert page.get_by_text("Signed in as Alice Liddell").is_visible()
        assert page.locator("li.photo").count() == 6
        assert page.get_by_role("img", name="Tea party in the garden").is_visible()
        assert page.get_by_role("link", name="Revoke access").get_attribute("href") == (
            sandbox.issuer + "/account"
        )
        page.screenshot(path=str(artifacts / f"client-{variant}-photo-grid.png"), full_page=True)
        page.get_by_role("button", name="Log out").click()
        page.wait_for_url(app.url + "/")
        context.close()


def test_inspector_shows_the_reference_clients_flow(
    chromium: Browser, sandbox: Sandbox, artifacts: Path
) -> None:
    sandbox.add_user("ivy-inspector", "ivy-password-1", name="Ivy Inspector")
    with running_app("steps", lambda origin: sandbox_config(sandbox, origin)) as app:
        context = chromium.new_context(viewport={"width": 1300, "height": 900})
        page = context.new_page()
        page.goto(app.url + "/login")
        page.get_by_label("Username").fill("ivy-inspector")
        page.get_by_label("Password").fill("ivy-password-1")
        page.get_by_role("button", name="Sign in").click()
        page.get_by_role("button", name="Allow").click()
        page.wait_for_url(app.url + "/photos")
        page.goto(sandbox.issuer + "/inspector")
        row = page.get_by_role("row").filter(has_text="ivy-inspector").first
        row.get_by_role("link").click()
        page.wait_for_url(sandbox.issuer + "/inspector/flows/**")
        steps = page.locator("ol.messages > li > strong").all_inner_texts()
        assert steps == ["Step 1", "Step 2", "Step 2", "Step 3", "Step 4", "Step 4", "Step 5"]
        marked = page.locator('svg g[data-password="true"]')
        assert marked.count() == 1
        assert "login: username and password" in (marked.text_content() or "")
        assert (
            page.get_by_role("note")
            .inner_text()
            .startswith(
                "Where the password went: The password was sent 1 time(s), only from the browser"
            )
        )
        page.screenshot(path=str(artifacts / "inspector-flow.png"), full_page=True)
        context.close()

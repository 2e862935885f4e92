"""The flow inspector: pages, SVG and Mermaid, the trace command, retention."""

from __future__ import annotations

import re
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from pathlib import Path

import httpx
import pytest

from tests.support.sandbox import REDIRECT, Sandbox, demo_browser
from valetkey.oauth.flow import FlowEvent
from valetkey.useragent.agent import UserAgent

SVG = "{http://www.w3.org/2000/svg}"


def _completed_flow(sandbox: Sandbox, user: str = "alice") -> str:
    agent = demo_browser(sandbox.issuer)
    try:
        code, auth = agent.code(user, sandbox.password(user))
    finally:
        agent.close()
    tokens = sandbox.redeem(code, auth.verifier).json()
    httpx.get(
        sandbox.issuer + "/api/photos",
        headers={"authorization": f"Bearer {tokens['access_token']}"},
    )
    return _newest(sandbox)


def _newest(sandbox: Sandbox) -> str:
    return str(sandbox.store().flows(1)[0]["id"])


def test_flow_page_and_svg(sandbox: Sandbox) -> None:
    flow_id = _completed_flow(sandbox)
    listing = httpx.get(sandbox.issuer + "/inspector")
    assert listing.status_code == 200
    assert f'href="/inspector/flows/{flow_id}"' in listing.text
    page = httpx.get(f"{sandbox.issuer}/inspector/flows/{flow_id}")
    assert page.status_code == 200
    assert page.headers["x-frame-options"] == "DENY"
    assert 'http-equiv="refresh"' not in page.text  # completed: no live reload
    assert "only from the browser to the authorization server" in page.text
    order = re.findall(r"<strong>Step (\d)</strong>", page.text)
    assert order == ["1", "2", "2", "3", "4", "4", "5"]
    svg = httpx.get(f"{sandbox.issuer}/inspector/flows/{flow_id}.svg")
    assert svg.headers["content-type"] == "image/svg+xml"
    root = ET.fromstring(svg.text)  # noqa: S314 (our own output) -- well-formed XML
    assert root.find(f"{SVG}title") is not None
    assert root.find(f"{SVG}desc") is not None
    marked = [g for g in root.iter(f"{SVG}g") if g.get("data-password") == "true"]
    assert [g.get("data-step") for g in marked] == ["2"]
    links = [a.get("href") for a in root.iter(f"{SVG}a")]
    assert "/inspector/checks#AS-08" in links


def test_failed_check_shows_on_its_arrow(sandbox: Sandbox) -> None:
    agent = demo_browser(sandbox.issuer)
    try:
        code, _auth = agent.code("alice", sandbox.password("alice"))
    finally:
        agent.close()
    httpx.post(
        sandbox.issuer + "/token",
        auth=("photo-printer", sandbox.secret),
        data={
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": REDIRECT,
            "code_verifier": "w" * 43,
        },
    )
    flow_id = _newest(sandbox)
    page = httpx.get(f"{sandbox.issuer}/inspector/flows/{flow_id}").text
    assert (
        "Stopped at step 4 (token request (code, verifier, client auth)): AS-04 failed: "
        "code_verifier does not match the code_challenge"
    ) in page
    root = ET.fromstring(httpx.get(f"{sandbox.issuer}/inspector/flows/{flow_id}.svg").text)  # noqa: S314
    token_arrow = next(g for g in root.iter(f"{SVG}g") if g.get("data-step") == "4")
    text = "".join(token_arrow.itertext())
    assert "✗ AS-04" in text
    assert "[check failed]" in text


def test_in_progress_flow_reloads_itself(sandbox: Sandbox, agent: UserAgent) -> None:
    agent.authorize(agent.request_params().params)
    flow_id = _newest(sandbox)
    page = httpx.get(f"{sandbox.issuer}/inspector/flows/{flow_id}").text
    assert '<meta http-equiv="refresh" content="2">' in page
    assert "(updating)" in page


def test_check_reference_documents_every_id(sandbox: Sandbox) -> None:
    page = httpx.get(sandbox.issuer + "/inspector/checks").text
    for check_id in ("AS-03", "AS-04", "AS-08", "AS-15", "AS-26", "AS-43"):
        assert f'id="{check_id}"' in page
    assert "RFC 9700 §4.1.3 requires exact" in page


def test_unknown_flow_is_404(sandbox: Sandbox) -> None:
    assert httpx.get(sandbox.issuer + "/inspector/flows/0000000000000000").status_code == 404
    assert httpx.get(sandbox.issuer + "/inspector/flows/../../etc").status_code == 404


def vk(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "valetkey", *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env={"COLUMNS": "200"},
    )


def test_trace_command(sandbox: Sandbox, tmp_path: Path) -> None:
    flow_id = _completed_flow(sandbox)
    db = ["--db", sandbox.db]
    listing = vk("trace", "list", *db)
    assert flow_id in listing.stdout
    text = vk("trace", "show", flow_id, *db)
    assert text.returncode == 0, text.stderr
    assert (
        "2. Resource owner -> Authorization server (front channel): login: username and "
        "password  [password]" in text.stdout
    )
    out = tmp_path / "flow.svg"
    written = vk("trace", "show", flow_id, "--format", "svg", "--out", str(out), *db)
    assert written.stdout.strip() == f"wrote {out}"
    ET.parse(out)  # noqa: S314
    mermaid = vk("trace", "show", flow_id, "--format", "mermaid", *db).stdout
    assert mermaid.startswith("sequenceDiagram\n")
    assert "client-->>authorization_server: 4. token request" in mermaid
    as_json = vk("trace", "show", flow_id, "--format", "json", *db).stdout
    assert '"carried_password": true' in as_json
    missing = vk("trace", "show", "ffffffffffffffff", *db)
    assert missing.returncode == 1
    assert "no flow 'ffffffffffffffff'" in missing.stderr


def test_retention_prunes_by_count_and_age(sandbox: Sandbox) -> None:
    store = sandbox.store()
    now = time.time()
    for index in range(5):
        store.start_flow(f"{index:016x}", "prune-test", now - 10 * 86400 + index)
    store.start_flow("f" * 16, "prune-test", now)
    event = FlowEvent(
        "f" * 16, now, "login", "browser", "authorization_server", "front", "x", {}, [], False
    )
    store.record(event)
    removed = store.prune_flows(keep=1000, older_than=now - 7 * 86400)
    assert removed >= 5
    assert store.flow("0" * 16) is None
    assert store.flow("f" * 16) is not None
    store.prune_flows(keep=1, older_than=0)
    assert len(store.flows(1000)) == 1
    assert store.flows(1)[0]["id"] == "f" * 16


@pytest.mark.slow
@pytest.mark.browser
def test_mermaid_renders_with_mermaids_own_library(sandbox: Sandbox, mermaid_js: Path) -> None:
    from playwright.sync_api import sync_playwright

    from tests.e2e.test_browser import CHROMIUM, CHROMIUM_ARGS
    from valetkey.trace import records

    flow_id = _completed_flow(sandbox)
    source = records.mermaid(sandbox.store().flow_events(flow_id))
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page()
        page.set_content("<html><body></body></html>")
        page.add_script_tag(path=str(mermaid_js))
        result = page.evaluate(
            """async (source) => {
                mermaid.initialize({startOnLoad: false});
                const {svg} = await mermaid.render('flow', source);
                return svg;
            }""",
            source,
        )
        browser.close()
    assert result.startswith("<svg")
    assert "Authorization server" in result
    assert "carries the password" in result


def test_check_reference_links_each_id_to_its_catalogue_entry(sandbox: Sandbox) -> None:
    page = httpx.get(sandbox.issuer + "/inspector/checks").text
    assert (
        '<h2><a href="/inspector/checks/AS-23">AS-23</a> · '
        "Confidential clients must authenticate, and not in the query string.</h2>"
    ) in page
    why = "<strong>Why:</strong> Without authentication anyone who obtains the client&#39;s"
    assert why in page
    assert "<h2>RFC 6749 §3.1</h2>" in page  # a check with no catalogue id keeps its clause


def test_check_entry_page_renders_the_catalogue_entry(sandbox: Sandbox) -> None:
    reference = httpx.get(sandbox.issuer + "/inspector/checks")
    entry = httpx.get(sandbox.issuer + "/inspector/checks/as-23")
    assert entry.status_code == 200
    for header in ("content-security-policy", "x-frame-options", "referrer-policy"):
        assert entry.headers[header] == reference.headers[header]
    assert entry.headers["content-type"] == reference.headers["content-type"]
    text = entry.text
    assert "<title>AS-23 · valetkey</title>" in text
    assert '<h1>AS-23 <span class="muted">client-auth-required</span></h1>' in text
    assert "<dt>Clause</dt><dd>RFC 6749 §2.3.1, §3.2.1</dd>" in text
    assert "POST /token?client_id=photo-printer&amp;client_secret=s3cr3t" in text
    assert "<h2>Enforced in this sandbox by</h2>" in text
    assert '<a href="/inspector/checks#AS-23">' in text
    assert "<script" not in text
    assert re.findall(r'(?:src|href)="(?!/|https://www\.rfc-editor\.org/|#)', text) == []


def test_entry_pages_cover_every_family_and_name_their_checker(sandbox: Sandbox) -> None:
    for check_id in ("LC-14", "OA103", "MS-03"):
        page = httpx.get(f"{sandbox.issuer}/inspector/checks/{check_id}")
        assert page.status_code == 200
        assert f"<h1>{check_id} " in page.text
    mcp = httpx.get(sandbox.issuer + "/inspector/checks/MS-03").text
    assert "<dt>Checked by</dt><dd><code>valetkey probe mcp-server</code></dd>" in mcp
    assert "Enforced in this sandbox by" not in mcp


def test_unknown_check_entry_is_404(sandbox: Sandbox) -> None:
    for path in ("AS-37", "ZZ-01", "AS-23x", "..."):
        page = httpx.get(f"{sandbox.issuer}/inspector/checks/{path}")
        assert page.status_code == 404
        assert "No such check id" in page.text
    assert httpx.get(sandbox.issuer + "/inspector/checks/..%2Fetc").status_code == 404

"""valetkey.sandbox, the public facade: start a sandbox and set it up over its admin API."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from valetkey.sandbox import RegisteredClient, Sandbox, SandboxError, SandboxStartError, start

REDIRECT = "http://127.0.0.1:5000/callback"


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sandbox]:
    running = start(tmp_path_factory.mktemp("facade"), "--no-demo-data")
    yield running
    running.stop()
    assert not running.running()


def test_clients_users_and_a_flow(sandbox: Sandbox) -> None:
    app = sandbox.add_client("facade-app", [REDIRECT], scopes="openid profile")
    assert app.client_id == "facade-app"
    assert app.redirect_uris == (REDIRECT,)
    assert app.client_secret is not None
    assert len(app.client_secret) == 43
    spa = sandbox.add_client("facade-spa", [REDIRECT], public=True, grants=["authorization_code"])
    assert spa == RegisteredClient("facade-spa", None, (REDIRECT,))
    sandbox.add_user("erin", "erin-password-1", name="Erin")
    browser = sandbox.login_as("erin", "erin-password-1")
    try:
        visit = browser.navigate(
            f"{sandbox.issuer}/authorize?response_type=code&client_id=facade-app"
            f"&redirect_uri={REDIRECT}&scope=openid&state=s-123456"
            "&code_challenge=E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
            "&code_challenge_method=S256",
            stop_at=lambda url: url.startswith(REDIRECT),
        )
    finally:
        browser.close()
    assert visit.stopped_at is not None
    assert "code=" in visit.stopped_at
    flow = sandbox.flows(client_id="facade-app")[0]
    assert (flow["username"], flow["outcome"]) == ("erin", "in_progress")
    steps = [event.step for event in sandbox.flow_events(flow["id"])]
    assert steps[0] == "authorization_request"
    assert steps[-1] == "authorization_response"


def test_refusals_carry_the_sandbox_answer(sandbox: Sandbox) -> None:
    with pytest.raises(SandboxError) as refused:
        sandbox.add_client("facade-bad", ["http://evil.example/cb"])
    assert str(refused.value).startswith("POST /admin/clients: 400 ")
    assert "must use https" in str(refused.value)


def test_admin_client_carries_the_token(sandbox: Sandbox) -> None:
    assert sandbox.admin.get("/requests").status_code == 200
    assert httpx.get(sandbox.issuer + "/admin/requests").status_code == 401
    assert sandbox.discovery_url == sandbox.issuer + "/.well-known/openid-configuration"


def test_start_failure_says_what_the_server_printed(tmp_path: Path) -> None:
    with pytest.raises(SandboxStartError) as failed:
        start(tmp_path, "--access-token-ttl", "-5")
    assert "valetkey serve exited early:" in str(failed.value)

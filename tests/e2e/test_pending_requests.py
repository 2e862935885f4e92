"""M6 (issue 15): unauthenticated /authorize requests cannot fill the database. state and
nonce are bounded (still above AS-13's 1,500 characters), the pending requests stored at
once are capped, and expired rows are pruned on a timer, not only after token requests."""

from __future__ import annotations

import time
from collections.abc import Iterator

import httpx
import pytest
from sqlalchemy import text

from tests.support.sandbox import Sandbox, demo_browser, start_sandbox
from valetkey.useragent.authorization import query_of

CAP = 20


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, store_url: str | None) -> Iterator[Sandbox]:
    env = {"VALETKEY_MAX_PENDING_REQUESTS": str(CAP), "VALETKEY_PRUNE_INTERVAL": "1"}
    running = start_sandbox(tmp_path_factory.mktemp("pending"), db=store_url, env=env)
    yield running
    running.stop()
    assert "Traceback" not in running.output()


def _pending(server: Sandbox) -> int:
    with server.store().engine.connect() as conn:
        return int(conn.execute(text("SELECT COUNT(*) FROM auth_requests")).scalar_one())


def _started(response: httpx.Response) -> bool:
    """The authorization request was stored: the browser is sent to the login page."""
    return response.status_code == 302 and response.headers["location"].startswith("/login?")


def _authorize(server: Sandbox, **overrides: str) -> httpx.Response:
    agent = demo_browser(server.issuer)
    try:
        return agent.authorize(agent.request_params(**overrides).params)
    finally:
        agent.close()


def _advance(server: Sandbox, seconds: float) -> None:
    response = httpx.post(
        server.issuer + "/admin/clock",
        json={"advance": seconds},
        headers={"authorization": f"Bearer {server.admin_token}"},
    )
    assert response.status_code == 200


@pytest.mark.parametrize("name", ["state", "nonce"])
def test_state_and_nonce_over_2048_characters_are_refused(server: Sandbox, name: str) -> None:
    before = _pending(server)
    response = _authorize(server, **{name: "s" * 2049})
    assert response.status_code == 302
    query = query_of(response.headers["location"])
    assert query["error"] == "invalid_request"
    assert query["error_description"] == f"parameter longer than 2048 characters: {name}"
    assert _pending(server) == before  # nothing stored


@pytest.mark.parametrize("name", ["state", "nonce"])
def test_state_and_nonce_of_1500_characters_pass(server: Sandbox, name: str) -> None:
    assert _started(_authorize(server, **{name: "s" * 1500}))


def test_pending_requests_are_capped_then_pruned(server: Sandbox) -> None:
    _advance(server, 3600)  # whatever earlier tests left has expired
    time.sleep(2.5)  # pruned by the timer
    assert _pending(server) == 0
    for _ in range(CAP):
        assert _started(_authorize(server, state="x" * 2000))
    refused = _authorize(server)
    assert refused.status_code == 503
    assert refused.headers["retry-after"] == "60"
    assert "Too many sign-ins in progress" in refused.text
    assert _pending(server) == CAP
    _advance(server, 3600)  # all expire: the next request makes room by pruning them
    assert _started(_authorize(server))
    assert _pending(server) == 1


def test_expired_rows_are_pruned_on_a_timer_without_token_requests(server: Sandbox) -> None:
    for _ in range(3):
        assert _started(_authorize(server))
    assert _pending(server) >= 3
    _advance(server, 3600)
    deadline = time.monotonic() + 10
    while _pending(server) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert _pending(server) == 0

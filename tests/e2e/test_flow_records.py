"""Every flow is recorded: who sent what to whom, the checks, where the password went."""

from __future__ import annotations

import httpx

from tests.support.sandbox import Sandbox, demo_browser


def test_flow_events_in_order_with_password_confined(sandbox: Sandbox) -> None:
    sandbox.add_user("frank-flow", "frank-secret-password")
    agent = demo_browser(sandbox.issuer)
    try:
        code, auth = agent.code("frank-flow", "frank-secret-password")
    finally:
        agent.close()
    tokens = sandbox.redeem(code, auth.verifier).json()
    headers = {"authorization": f"Bearer {tokens['access_token']}"}
    assert httpx.get(sandbox.issuer + "/api/photos", headers=headers).status_code == 200

    store = sandbox.store()
    flow = next(
        f
        for f in store.flows(200)
        if f["outcome"] == "completed"
        and store.flow_events(f["id"])[1].params.get("username") == "frank-flow"
    )
    events = store.flow_events(flow["id"])
    assert [e.step for e in events] == [
        "authorization_request",
        "login",
        "consent",
        "authorization_response",
        "token_request",
        "token_response",
        "api_call",
    ]
    assert [(e.sender, e.receiver, e.channel) for e in events] == [
        ("browser", "authorization_server", "front"),
        ("browser", "authorization_server", "front"),
        ("browser", "authorization_server", "front"),
        ("authorization_server", "client", "front"),
        ("client", "authorization_server", "back"),
        ("authorization_server", "client", "back"),
        ("client", "resource_server", "back"),
    ]
    assert [e.carried_password for e in events] == [False, True, False, False, False, False, False]
    request_checks = {c["id"] for c in events[0].checks if c["result"] == "pass"}
    assert {"AS-08", "AS-09", "AS-12", "AS-21", "AS-43", "AS-03", "AS-06"} <= request_checks
    token_checks = [c["id"] for c in events[4].checks]
    assert {"AS-04", "AS-11", "AS-15", "AS-16", "AS-18", "AS-19", "AS-23"} <= set(token_checks)
    assert flow["failed_checks"] == 0

    recorded = repr([(e.params, e.checks, e.summary) for e in events])
    for secret in (
        "frank-secret-password",
        sandbox.secret,
        code,
        auth.verifier,
        tokens["access_token"],
        tokens["refresh_token"],
        tokens["id_token"],
    ):
        assert secret not in recorded
    assert events[1].params["password"] == "(hidden)"


def test_failed_check_is_recorded_on_its_arrow(sandbox: Sandbox) -> None:
    agent = demo_browser(sandbox.issuer)
    try:
        code, _auth = agent.code("alice", sandbox.password("alice"))
    finally:
        agent.close()
    wrong = sandbox.redeem(code, "w" * 43)
    assert wrong.json()["error"] == "invalid_grant"
    store = sandbox.store()
    failed = next(
        f
        for f in store.flows(200)
        if f["outcome"] == "failed" and store.flow_events(f["id"])[-1].step == "token_request"
    )
    last = store.flow_events(failed["id"])[-1]
    assert last.checks[-1]["id"] == "AS-04"
    assert last.checks[-1]["result"] == "fail"
    assert last.checks[-1]["clause"] == "RFC 7636 §4.6"
    assert failed["failed_checks"] == 1

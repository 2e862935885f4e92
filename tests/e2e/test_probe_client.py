"""`valetkey probe client` against the photo-printer app and a sandbox in probe mode."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.client.conftest import running_app, sandbox_config
from tests.support.sandbox import Sandbox, start_sandbox
from valetkey.client.config import ClientConfig, ClientLab
from valetkey.client.server import BackgroundServer
from valetkey.probe.client import run_client_probe
from valetkey.probe.client_session import ClientTarget

ALL_LC = {f"LC-{n:02d}" for n in range(1, 21)}


@pytest.fixture(scope="module")
def probe_sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sandbox]:
    running = start_sandbox(tmp_path_factory.mktemp("probe-mode"), "--probe-mode")
    yield running
    running.stop()


def _config(sandbox: Sandbox, origin: str, lab: frozenset[ClientLab]) -> ClientConfig:
    return sandbox_config(sandbox, origin, lab)


def _target(sandbox: Sandbox, app: BackgroundServer) -> ClientTarget:
    return ClientTarget(
        app.url + "/login",
        sandbox.issuer,
        "alice",
        sandbox.password("alice"),
        "bob",
        sandbox.password("bob"),
        sandbox_token=sandbox.admin_token,
    )


def _failing(
    sandbox: Sandbox, variant: str, lab: frozenset[ClientLab] = frozenset()
) -> dict[str, str]:
    with running_app(variant, lambda origin: _config(sandbox, origin, lab)) as app:
        results = run_client_probe(_target(sandbox, app)).results
    assert {r.id for r in results} == ALL_LC
    assert [r.id for r in results if r.status == "n/a"] == []
    return {r.id: r.reason for r in results if r.status == "fail"}


@pytest.mark.parametrize("variant", ["steps", "authlib"])
def test_reference_app_passes_every_lc_check(probe_sandbox: Sandbox, variant: str) -> None:
    assert _failing(probe_sandbox, variant) == {}


def test_no_state_check_copy_fails_exactly_lc02_to_lc04(probe_sandbox: Sandbox) -> None:
    failing = _failing(probe_sandbox, "steps", frozenset({ClientLab.NO_STATE_CHECK}))
    assert failing == {
        "LC-02": "a callback without state was used",
        "LC-03": "a callback with a wrong state was used",
        "LC-04": "the victim was signed in by the attacker's callback",
    }


def test_probe_client_needs_probe_mode(sandbox: Sandbox, tmp_path: Path) -> None:
    """Against a sandbox without --probe-mode: a clear message, exit 1, nothing run."""
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "valetkey",
            "probe",
            "client",
            "http://127.0.0.1:9/login",
            "--sandbox",
            sandbox.issuer,
            "--username",
            "alice",
            "--password",
            "x",
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 1
    assert "Error: the sandbox is not in probe mode (valetkey serve --probe-mode)" in result.stderr


def test_probe_api_refuses_unknown_forgeries(probe_sandbox: Sandbox) -> None:
    answer = httpx.post(
        probe_sandbox.issuer + "/probe/forge",
        data={"client_id": "x", "where": "token", "how": "everything"},
        headers={"authorization": f"Bearer {probe_sandbox.admin_token}"},
    )
    assert answer.status_code == 400
    assert answer.json()["error"] == "invalid_request"
    assert httpx.get(probe_sandbox.issuer + "/login").text.count("probe mode:") == 1


@pytest.mark.parametrize(
    ("method", "path", "headers"),
    [
        ("GET", "/probe/log", {}),
        ("GET", "/probe/log", {"authorization": "Bearer wrong-token-0123456789"}),
        # what a page on another port can send: a form POST, cookies, no Authorization
        (
            "POST",
            "/probe/forge",
            {"origin": "http://127.0.0.1:9", "content-type": "application/x-www-form-urlencoded"},
        ),
    ],
)
def test_probe_api_needs_the_admin_token(
    probe_sandbox: Sandbox, method: str, path: str, headers: dict[str, str]
) -> None:
    answer = httpx.request(
        method,
        probe_sandbox.issuer + path,
        headers=headers,
        content=b"client_id=x&where=token&how=alg-none",
    )
    assert answer.status_code == 401
    assert answer.json()["error"] == "unauthorized"
    assert answer.headers["www-authenticate"] == 'Bearer realm="valetkey-admin"'


def test_probe_log_is_scoped_per_client(probe_sandbox: Sandbox) -> None:
    """Two clients' back channels in one sandbox: each probe reads only its own client's."""
    auth = {"authorization": f"Bearer {probe_sandbox.admin_token}"}
    mark = httpx.get(probe_sandbox.issuer + "/probe/log", params={"since": 1 << 30}, headers=auth)
    start = mark.json()["next"]
    for client_id in ("scoped-a", "scoped-b", "scoped-a"):
        httpx.post(
            probe_sandbox.issuer + "/token",
            data={"grant_type": "authorization_code", "code": "x", "client_id": client_id},
        )
    mine = httpx.get(
        probe_sandbox.issuer + "/probe/log",
        params={"since": start, "client_id": "scoped-a"},
        headers=auth,
    ).json()
    assert [(e["endpoint"], e["client_id"], e["status"]) for e in mine["events"]] == [
        ("token", "scoped-a", 401),
        ("token", "scoped-a", 401),
    ]
    assert mine["next"] == start + 3


def test_cli_json(probe_sandbox: Sandbox) -> None:
    with running_app("steps", lambda origin: _config(probe_sandbox, origin, frozenset())) as app:
        result = subprocess.run(
            [
                sys.executable,
                "-m",
                "valetkey",
                "probe",
                "client",
                app.url + "/login",
                "--sandbox",
                probe_sandbox.issuer,
                "--username",
                "alice",
                "--password",
                probe_sandbox.password("alice"),
                "--sandbox-token",
                probe_sandbox.admin_token,
                "--only",
                "LC-01,LC-14",
                "--format",
                "json",
            ],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert [(r["id"], r["status"]) for r in report["results"]] == [
        ("LC-01", "pass"),
        ("LC-14", "pass"),
    ]


FLAWS = {
    "no nonce check": ({"LC-08"}, "NoNonceCheck"),
    "ID token unverified": ({"LC-14"}, "IdTokenUnverified"),
    "redirect_uri from the Host header": ({"LC-11"}, "RedirectUriFromHost"),
    "open redirect on next": ({"LC-12"}, None),
}


@pytest.mark.slow
@pytest.mark.parametrize("flaw", sorted(FLAWS))
def test_each_flawed_app_is_caught_by_exactly_its_checks(probe_sandbox: Sandbox, flaw: str) -> None:
    from tests.probe_targets import flawed_apps
    from valetkey.client import steps
    from valetkey.client.server import free_socket

    expected, class_name = FLAWS[flaw]
    flow_class = getattr(flawed_apps, class_name) if class_name else None
    sock = free_socket()
    origin = f"http://127.0.0.1:{sock.getsockname()[1]}"
    app = steps.create_app(_config(probe_sandbox, origin, frozenset()), flow_class=flow_class)
    if class_name is None:
        flawed_apps.add_open_redirect(app)
    server = BackgroundServer(app, sock).start()
    try:
        results = run_client_probe(_target(probe_sandbox, server)).results
    finally:
        server.stop()
    assert {r.id for r in results if r.status == "fail"} == expected
    assert [r.id for r in results if r.status == "n/a"] == []


def test_top_level_help_names_both_probes() -> None:
    import os

    result = subprocess.run(
        [sys.executable, "-m", "valetkey", "--help"],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
        env={**os.environ, "COLUMNS": "200"},
    )
    line = next(x for x in result.stdout.splitlines() if x.strip().startswith("probe "))
    assert " ".join(line.split()) == (
        "probe Attack a live authorization server, client app or MCP server."
    )

"""`valetkey probe mcp-server` against the reference MCP server (all ten pass) and the zoo of
flawed servers (each fails exactly its checks), all trusting one probe-mode sandbox."""

from __future__ import annotations

import importlib
import json
import shlex
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.support.mcp_server import serving_mcp
from tests.support.sandbox import Sandbox
from valetkey.client.server import free_socket
from valetkey.mcp.server import McpSettings, build_app
from valetkey.mcp.upstream import Credentials
from valetkey.probe.mcp_server import run_mcp_server_probe
from valetkey.probe.mcp_session import McpTarget

ALL = {f"MS-{n:02d}" for n in range(1, 11)}
UPSTREAM = ("photo-mcp", "photo-mcp-secret-0123456789abcdef")

# each flawed server (tests/probe_targets/mcp_*.py) and the checks it must fail
ZOO = {
    "mcp_no_audience": {"MS-03"},
    "mcp_no_metadata": {"MS-01", "MS-02"},
    "mcp_bare_challenge": {"MS-02"},
    "mcp_scope_as_401": {"MS-06"},
    "mcp_passthrough": {"MS-08"},
    "mcp_query_token": {"MS-07"},
    "mcp_resource_mismatch": {"MS-01"},
    "mcp_expired_accepted": {"MS-05"},
    "mcp_any_origin": {"MS-09"},
    "mcp_alg_none": {"MS-04"},
}


@pytest.fixture(scope="module")
def upstream(probe_sandbox: Sandbox) -> Credentials:
    """The reference server's own client at the sandbox (client credentials, photos.read)."""
    client_id, secret = UPSTREAM
    probe_sandbox.add_client(
        client_id, secret, (), scopes="photos.read", grants=("client_credentials",)
    )
    return Credentials(client_id, secret)


def _statuses(sandbox: Sandbox, url: str) -> dict[str, str]:
    run = run_mcp_server_probe(McpTarget(url, sandbox.issuer, sandbox.admin_token))
    return {r.id: r.status for r in run.results}


def test_reference_server_passes_all_ten(probe_sandbox: Sandbox, upstream: Credentials) -> None:
    def build(url: str) -> object:
        return build_app(McpSettings(url, probe_sandbox.issuer, upstream))

    with serving_mcp(build) as url:
        assert _statuses(probe_sandbox, url) == dict.fromkeys(sorted(ALL), "pass")
        token_calls = [
            e for e in probe_sandbox_log(probe_sandbox) if e.get("endpoint") == "resource"
        ]
    # its tools did reach the photos API, with its own token only (MS-08's oracle saw them)
    assert token_calls
    assert {e["client_id"] for e in token_calls} == {"photo-mcp"}


def probe_sandbox_log(sandbox: Sandbox) -> list[dict[str, object]]:
    headers = {"authorization": f"Bearer {sandbox.admin_token}"}
    return list(httpx.get(sandbox.issuer + "/probe/log", headers=headers).json()["events"])


@pytest.mark.parametrize("flaw", sorted(ZOO))
def test_each_flawed_server_fails_exactly_its_checks(probe_sandbox: Sandbox, flaw: str) -> None:
    module = importlib.import_module(f"tests.probe_targets.{flaw}")
    with serving_mcp(lambda url: module.build(url, probe_sandbox.issuer)) as url:
        statuses = _statuses(probe_sandbox, url)
    expected = {i: ("fail" if i in ZOO[flaw] else "pass") for i in sorted(ALL)}
    assert statuses == expected


def _probe_cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """`valetkey probe mcp-server ARGS` in a real process."""
    return subprocess.run(
        [sys.executable, "-m", "valetkey", "probe", "mcp-server", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_cli_json_and_exit_status(probe_sandbox: Sandbox) -> None:
    """The admin token from VALETKEY_ADMIN_TOKEN, as for probe client."""
    module = importlib.import_module("tests.probe_targets.mcp_no_audience")
    env = {"VALETKEY_ADMIN_TOKEN": probe_sandbox.admin_token, "PATH": "/usr/bin:/bin"}
    with serving_mcp(lambda url: module.build(url, probe_sandbox.issuer)) as url:
        sandbox = probe_sandbox.issuer
        done = _probe_cli(
            url, "--sandbox", sandbox, "--format", "json", "--only", "MS-03,MS-09", env=env
        )
    assert done.returncode == 1
    report = json.loads(done.stdout)
    assert [(r["id"], r["status"]) for r in report["results"]] == [
        ("MS-03", "fail"),
        ("MS-09", "pass"),
    ]
    assert report["results"][0]["reason"] == "accepted a token for another resource"
    assert report["results"][0]["doc"] == "docs/checks.md#ms-03"


def test_cli_without_probe_mode_says_so(sandbox: Sandbox) -> None:
    done = _probe_cli(
        "http://127.0.0.1:9/mcp",
        "--sandbox",
        sandbox.issuer,
        "--sandbox-token",
        sandbox.admin_token,
    )
    assert done.returncode == 1
    assert done.stderr == "Error: the sandbox is not in probe mode (valetkey serve --probe-mode)\n"


DOC = Path(__file__).resolve().parents[2] / "docs" / "mcp.md"


def _doc_commands() -> list[list[str]]:
    """The server author's five commands in docs/mcp.md, as argument lists."""
    section = DOC.read_text(encoding="utf-8").split("## For MCP server authors", 1)[1]
    block = section.split("```sh\n", 1)[1].split("```", 1)[0]
    lines = [line.split("#", 1)[0].strip() for line in block.splitlines()]
    return [shlex.split(line) for line in lines if line]


def test_the_docs_five_commands_work(probe_sandbox: Sandbox, upstream: Credentials) -> None:
    """docs/mcp.md's commands, on free ports: the reference server process, then the probe."""
    commands = _doc_commands()
    assert [c[:3] for c in commands] == [
        ["make", "install"],
        [".venv/bin/valetkey", "serve", "--probe-mode"],
        [".venv/bin/valetkey", "mcp", "serve"],
        ["export", "VALETKEY_ADMIN_TOKEN=TOKEN"],
        [".venv/bin/valetkey", "probe", "mcp-server"],
    ]
    sock = free_socket()
    url = f"http://127.0.0.1:{sock.getsockname()[1]}/mcp"
    sock.close()
    serve = [
        sys.executable,
        "-m",
        "valetkey",
        *commands[2][1:],
        "--url",
        url,
        "--issuer",
        probe_sandbox.issuer,
    ]
    env = {"PATH": "/usr/bin:/bin", "VALETKEY_ADMIN_TOKEN": probe_sandbox.admin_token}
    server = subprocess.Popen(serve, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        _wait_for(url.replace("/mcp", "/.well-known/oauth-protected-resource"))
        probe = [
            a.replace("http://127.0.0.1:8790/mcp", url).replace(
                "http://127.0.0.1:8400", probe_sandbox.issuer
            )
            for a in commands[4][3:]
        ]
        done = _probe_cli(*probe, env=env)
    finally:
        server.terminate()
        server.communicate(timeout=10)
    assert done.returncode == 0, done.stdout
    assert "\n10 passed, 0 failed, 0 not applicable, 0 broke; " in done.stdout


def _wait_for(url: str) -> None:
    for _ in range(200):
        try:
            httpx.get(url)
            return
        except httpx.ConnectError:
            time.sleep(0.05)
    raise AssertionError(f"nothing answered at {url}")

"""The official MCP TypeScript SDK's client (npm `@modelcontextprotocol/sdk`, on the machine's
Node) runs the whole MCP authorization flow against the sandbox and the reference MCP server,
registered each of the three ways: pre-registered, by a client ID metadata document, and by
RFC 7591 dynamic registration.

`tests/interop/mcp_ts_client/client.mjs` is the client (installed by `make interop`, from its
lock file). It prints `AUTHORIZE <url>` when the SDK sends the user to the authorization
server; this test plays the browser (sign-in and consent) and answers `CODE <code>`. At the
end the script prints what the tools answered and every request the SDK made, and the test
asserts on that traffic: the 401 and its metadata, PKCE S256 and `resource` on both requests,
the step-up and the refresh.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from tests.mcp.conftest import (
    CALLBACK,
    SCOPES,
    TOKEN_WAIT,
    Flow,
    assert_whole_flow,
    client_document,
    sign_in_and_consent,
)
from tests.support.document_server import DocumentServer
from tests.support.tls import LoopbackCertificate
from valetkey.sandbox import Sandbox

pytestmark = pytest.mark.slow

CLIENT = Path(__file__).resolve().parents[1] / "interop" / "mcp_ts_client"


def _node() -> str:
    node = shutil.which("node")
    assert node is not None, "node is not on PATH: the machine's Node.js runs the TS SDK"
    assert (CLIENT / "node_modules" / "@modelcontextprotocol" / "sdk").is_dir(), (
        "run `make interop` (make test does) to install the TypeScript SDK"
    )
    return node


def _run_client(
    sandbox: Sandbox, mcp_url: str, mode: str, named: str = "", env: dict[str, str] | None = None
) -> dict[str, Any]:
    """Run the SDK's client; play the browser each time it asks; its final report."""
    argv = [_node(), str(CLIENT / "client.mjs"), mcp_url, CALLBACK, mode, named]
    child_env = {**os.environ, "TOKEN_WAIT": str(TOKEN_WAIT), **(env or {})}
    with subprocess.Popen(
        argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=child_env
    ) as child:
        assert child.stdin is not None
        assert child.stdout is not None
        authorizations: list[dict[str, list[str]]] = []
        try:
            for line in child.stdout:
                kind, _, rest = line.rstrip("\n").partition(" ")
                if kind == "AUTHORIZE":
                    authorizations.append(parse_qs(urlsplit(rest).query))
                    answer = sign_in_and_consent(sandbox, rest)
                    child.stdin.write(f"CODE {answer['code']}\n")
                    child.stdin.flush()
                elif kind in ("RESULT", "FAILED"):
                    report: dict[str, Any] = json.loads(rest)
                    assert kind == "RESULT", report.get("error")
                    report["authorizations"] = authorizations
                    return report
        finally:
            child.stdin.close()
            try:
                child.wait(timeout=30)
            except subprocess.TimeoutExpired:
                child.kill()  # stopped by PID, whatever it was doing
    raise AssertionError("the TypeScript client ended without a report")


def _form(body: str) -> dict[str, list[str]]:
    return parse_qs(body) if body and not body.startswith("{") else {}


def _assert_whole_flow(sandbox: Sandbox, url: str, report: dict[str, Any]) -> None:
    traffic = report["traffic"]
    tokens = [_form(t["body"]) for t in traffic if urlsplit(t["url"]).path == "/token"]
    flow = Flow(
        [t["url"] for t in traffic],
        report["authorizations"],
        tokens,
        report["answers"],
        report["tokens"]["access_token"],
    )
    # this SDK answers the step-up's 403 with a refresh first, which cannot widen the scope
    # (RFC 6749 §6: the sandbox keeps it); the app then re-authorizes (see client.mjs)
    grants = ["authorization_code", "refresh_token", "authorization_code", "refresh_token"]
    assert_whole_flow(sandbox, url, flow, grants)
    assert "scope" not in tokens[1]
    assert report["stepUpsByReauthorizing"] == 1


def test_a_pre_registered_client_completes_the_whole_flow(sandbox: Sandbox, mcp_url: str) -> None:
    registered = sandbox.add_client(
        "ts-pre-registered",
        [CALLBACK],
        public=True,
        scopes=" ".join((*SCOPES, "offline_access")),
        grants=("authorization_code", "refresh_token"),
    )
    report = _run_client(sandbox, mcp_url, "pre-registered", registered.client_id)
    _assert_whole_flow(sandbox, mcp_url, report)
    assert not any(urlsplit(t["url"]).path == "/register" for t in report["traffic"])


def test_a_dynamically_registered_client_completes_the_whole_flow(
    sandbox: Sandbox, mcp_url: str
) -> None:
    report = _run_client(sandbox, mcp_url, "dynamic")
    _assert_whole_flow(sandbox, mcp_url, report)
    registrations = [t for t in report["traffic"] if urlsplit(t["url"]).path == "/register"]
    assert len(registrations) == 1
    listed = sandbox.admin.get("/clients").json()["clients"]
    mine = [c for c in listed if c["client_id"] == report["client"]["client_id"]]
    assert [c["origin"] for c in mine] == ["dynamic"]


def test_a_client_id_metadata_document_client_completes_the_whole_flow(
    sandbox: Sandbox, mcp_url: str, tls: LoopbackCertificate
) -> None:
    documents = DocumentServer(tls).start()
    try:
        document_url = client_document(
            documents, "/clients/ts.json", "TypeScript SDK test client (CIMD)"
        )
        report = _run_client(sandbox, mcp_url, "cimd", document_url)
    finally:
        documents.stop()
    _assert_whole_flow(sandbox, mcp_url, report)
    assert report["authorizations"][0]["client_id"] == [document_url]
    assert documents.hits["/clients/ts.json"] >= 1

"""`valetkey mcp serve` as a real process: it listens at --url and serves its metadata."""

from __future__ import annotations

import subprocess
import sys
import time

import httpx
from click.testing import CliRunner

from valetkey.cli import cli
from valetkey.client.server import free_socket


def test_serves_metadata_at_its_url_and_stops_by_pid() -> None:
    sock = free_socket()
    port = sock.getsockname()[1]
    sock.close()
    url = f"http://127.0.0.1:{port}/mcp"
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "valetkey",
            "mcp",
            "serve",
            "--url",
            url,
            "--issuer",
            "http://127.0.0.1:9",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        answer = None
        for _ in range(200):
            try:
                answer = httpx.get(f"http://127.0.0.1:{port}/.well-known/oauth-protected-resource")
                break
            except httpx.ConnectError:
                time.sleep(0.05)
        assert answer is not None
        assert answer.json()["resource"] == url
        assert answer.json()["authorization_servers"] == ["http://127.0.0.1:9"]
    finally:
        proc.terminate()
        out, _ = proc.communicate(timeout=10)
    assert out.startswith(f"MCP server at {url}, trusting http://127.0.0.1:9\n")


def test_client_id_needs_its_secret() -> None:
    result = CliRunner().invoke(cli, ["mcp", "serve", "--client-id", "x"], env={})
    assert result.exit_code == 1
    assert result.output == "Error: give both --client-id and --client-secret, or neither\n"


def test_url_must_have_a_path() -> None:
    result = CliRunner().invoke(cli, ["mcp", "serve", "--url", "http://127.0.0.1:8790"])
    assert result.exit_code == 1
    assert result.output == (
        "Error: --url must be an http(s) URL with a path, not 'http://127.0.0.1:8790'\n"
    )

"""The admin commands on the database, without a server; and serve's start-up errors."""

from __future__ import annotations

import socket
import subprocess
import sys
from pathlib import Path

import httpx

from tests.support.sandbox import demo_browser, start_sandbox
from valetkey.useragent.authorization import query_of


def vk(
    *args: str, env: dict[str, str] | None = None, stdin: str | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "valetkey", *args],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
        input=stdin,
        check=False,
    )


def test_users_and_clients_then_serve(tmp_path: Path, store_url: str | None) -> None:
    """The admin commands write the database a server then uses (SQLite and PostgreSQL)."""
    db = ["--db", store_url] if store_url else ["--data-dir", str(tmp_path)]
    added = vk(
        "users",
        "add",
        "carol",
        "--password",
        "carol-pass-123",
        "--claim",
        "name=Carol Jones",
        "--claim",
        "email_verified=true",
        *db,
    )
    assert added.returncode == 0, added.stderr
    assert added.stdout.startswith("added user carol (sub ")
    again = vk("users", "add", "carol", "--password", "x", *db)
    assert again.returncode == 1
    assert "Error: a user named 'carol' already exists; pick another username" in again.stderr
    listing = vk("users", "list", *db)
    assert "carol" in listing.stdout
    assert '"email_verified": true' in listing.stdout

    client = vk(
        "clients",
        "add",
        "my-app",
        "--redirect-uri",
        "http://127.0.0.1:9999/cb",
        "--scope",
        "openid profile",
        *db,
    )
    assert client.returncode == 0, client.stderr
    secret_line = client.stdout.splitlines()[-1]
    assert secret_line.startswith("client secret (shown once, store it safely): ")
    secret = secret_line.rsplit(" ", 1)[-1]
    assert len(secret) >= 43
    assert "my-app" in vk("clients", "list", *db).stdout

    sandbox = start_sandbox(tmp_path, db=store_url)
    agent = demo_browser(sandbox.issuer)
    try:
        callback = agent.to_callback(
            agent.request_params(
                client_id="my-app", redirect_uri="http://127.0.0.1:9999/cb", scope="openid profile"
            ).params,
            "carol",
            "carol-pass-123",
        )
        code = query_of(callback)["code"]
        assert "code_verifier" not in callback
        assert code
        removed = vk("clients", "remove", "my-app", *db)
        assert removed.stdout.strip() == "removed client my-app; its tokens no longer work"
        response = httpx.post(
            sandbox.issuer + "/token",
            auth=("my-app", secret),
            data={"grant_type": "authorization_code", "code": code},
        )
        assert response.status_code == 401
    finally:
        agent.close()
        sandbox.stop()
    missing = vk("clients", "remove", "my-app", *db)
    assert missing.returncode == 1
    assert "no client with id 'my-app'" in missing.stderr


def test_client_add_validation(tmp_path: Path) -> None:
    db = ["--data-dir", str(tmp_path)]
    http = vk("clients", "add", "x", "--redirect-uri", "http://example.com/cb", *db)
    assert http.returncode == 2
    assert "must use https unless it points at a loopback address" in http.stderr
    wildcard = vk("clients", "add", "x", "--redirect-uri", "https://*.example.com/cb", *db)
    assert "must not contain a wildcard" in wildcard.stderr
    both = vk(
        "clients",
        "add",
        "x",
        "--public",
        "--secret",
        "s",
        "--redirect-uri",
        "https://a.example/cb",
        *db,
    )
    assert "--public and --secret exclude each other" in both.stderr
    no_uri = vk("clients", "add", "x", *db)
    assert "needs at least one --redirect-uri" in no_uri.stderr
    public_cc = vk("clients", "add", "x", "--public", "--grant", "client_credentials", *db)
    assert "cannot use client_credentials" in public_cc.stderr


def test_serve_reports_busy_port(tmp_path: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = vk("serve", "--port", str(port), "--data-dir", str(tmp_path))
    assert result.returncode == 1
    assert f"cannot listen on 127.0.0.1:{port}: Address already in use" in result.stderr
    assert "Traceback" not in result.stderr


def test_serve_reports_bad_setting(tmp_path: Path) -> None:
    env = {"VALETKEY_CODE_TTL": "forever", "PATH": "/usr/bin"}
    result = vk("serve", "--data-dir", str(tmp_path), env=env)
    assert result.returncode == 2
    assert "VALETKEY_CODE_TTL='forever': expected a whole number" in result.stderr


def test_serve_reports_unreachable_database(tmp_path: Path) -> None:
    result = vk("serve", "--db", "postgresql://127.0.0.1:1/nothing", "--port", "0")
    assert result.returncode == 1
    assert "cannot open the database postgresql://127.0.0.1:1/nothing" in result.stderr
    assert "Traceback" not in result.stderr


def test_help_teaches() -> None:
    top = vk("--help")
    assert "valetkey serve" in top.stdout
    serve = vk("serve", "--help")
    assert "Examples:" in serve.stdout
    assert "--lab" in serve.stdout


def test_ctrl_c_stops_cleanly(tmp_path: Path) -> None:
    import signal

    sandbox = start_sandbox(tmp_path)
    sandbox.proc.send_signal(signal.SIGINT)
    assert sandbox.proc.wait(timeout=10) == 0
    assert "Traceback" not in sandbox.output()
    assert sandbox.output().rstrip().endswith("valetkey sandbox stopped.")

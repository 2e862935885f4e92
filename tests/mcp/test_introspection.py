"""Opaque access tokens at the reference MCP server: it asks the sandbox (RFC 7662), as the
client its resource names, and the sandbox answers only that client and the token's own."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.e2e.test_cli import vk
from tests.support.mcp_server import serving_mcp
from valetkey.mcp.guard import App
from valetkey.mcp.jsonrpc import ACCEPT, rpc_body
from valetkey.mcp.server import McpSettings, build_app
from valetkey.mcp.upstream import Credentials
from valetkey.sandbox import RegisteredClient, Sandbox, SandboxError, start

CALLBACK = "http://127.0.0.1:8791/callback"


@dataclass(frozen=True)
class World:
    sandbox: Sandbox
    url: str  # the MCP server, a resource whose client is `server`
    server: RegisteredClient
    agent: RegisteredClient  # a confidential MCP client (client credentials, for brevity)


def _secret(client: RegisteredClient) -> str:
    assert client.client_secret is not None
    return client.client_secret


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    sandbox = start(
        tmp_path_factory.mktemp("opaque"),
        "--no-demo-data",
        "--access-token-format",
        "opaque",
        strict_hashing=False,
    )
    try:
        server = sandbox.add_client(
            "mcp-server", [CALLBACK], scopes="photos.read", grants=("client_credentials",)
        )
        agent = sandbox.add_client(
            "agent", [CALLBACK], scopes="photos.read photos.print", grants=("client_credentials",)
        )

        def build(url: str) -> App:
            creds = Credentials(server.client_id, _secret(server))
            return build_app(McpSettings(url, sandbox.issuer, creds))

        with serving_mcp(build) as url:
            sandbox.add_resource(url, ("photos.read", "photos.print"), client_id="mcp-server")
            yield World(sandbox, url, server, agent)
    finally:
        sandbox.stop()


def _token(world: World, resource: str) -> str:
    answer = httpx.post(
        world.sandbox.issuer + "/token",
        data={"grant_type": "client_credentials", "scope": "photos.read", "resource": resource},
        auth=(world.agent.client_id, _secret(world.agent)),
    )
    assert answer.status_code == 200, answer.text
    token = str(answer.json()["access_token"])
    assert token.count(".") != 2  # opaque
    return token


def _tools_list(world: World, token: str) -> httpx.Response:
    headers = {"accept": ACCEPT, "authorization": f"Bearer {token}"}
    return httpx.post(world.url, json=rpc_body("tools/list"), headers=headers)


def _introspect(world: World, token: str, client: RegisteredClient) -> dict[str, object]:
    answer = httpx.post(
        world.sandbox.issuer + "/introspect",
        data={"token": token},
        auth=(client.client_id, _secret(client)),
    )
    assert answer.status_code == 200
    body: dict[str, object] = answer.json()
    return body


def test_an_opaque_token_for_the_server_is_accepted_by_introspection(world: World) -> None:
    answer = _tools_list(world, _token(world, world.url))
    assert answer.status_code == 200, answer.text
    assert {t["name"] for t in answer.json()["result"]["tools"]} == {"list_photos", "print_photo"}


def test_the_resource_servers_client_sees_the_audience(world: World) -> None:
    seen = _introspect(world, _token(world, world.url), world.server)
    assert (seen["active"], seen["aud"], seen["client_id"]) == (True, world.url, "agent")


def test_a_revoked_token_is_refused(world: World) -> None:
    token = _token(world, world.url)
    assert _tools_list(world, token).status_code == 200
    revoked = httpx.post(
        world.sandbox.issuer + "/revoke",
        data={"token": token},
        auth=(world.agent.client_id, _secret(world.agent)),
    )
    assert revoked.status_code == 200
    answer = _tools_list(world, token)
    assert answer.status_code == 401
    assert 'error="invalid_token"' in answer.headers["www-authenticate"]


def test_a_token_for_another_resource_is_inactive_to_the_server(world: World) -> None:
    other = "http://127.0.0.1:9/other-mcp"
    world.sandbox.add_resource(other, ("photos.read",))
    token = _token(world, other)
    assert _introspect(world, token, world.server) == {"active": False}
    assert _introspect(world, token, world.agent)["active"] is True  # its own client
    assert _tools_list(world, token).status_code == 401


def test_a_client_that_is_no_resource_server_learns_nothing(world: World) -> None:
    stranger = world.sandbox.add_client("stranger", [CALLBACK], grants=("client_credentials",))
    assert _introspect(world, _token(world, world.url), stranger) == {"active": False}


@pytest.mark.parametrize(
    ("client_id", "message"),
    [
        ("nobody", "client_id: no client 'nobody'; register it first"),
        (
            "public-one",
            "client_id: 'public-one' is a public client; a resource server introspects with a "
            "secret (RFC 7662 §2.1)",
        ),
    ],
)
def test_a_resource_names_only_a_confidential_client(
    world: World, client_id: str, message: str
) -> None:
    if client_id == "public-one":
        world.sandbox.add_client("public-one", [CALLBACK], public=True)
    uri = f"http://127.0.0.1:9/{client_id}"
    with pytest.raises(SandboxError) as refused:
        world.sandbox.add_resource(uri, ("photos.read",), client_id=client_id)
    status, _, body = str(refused.value).partition(": ")[2].partition(" ")
    assert (status, json.loads(body)) == (
        "400",
        {"error": "invalid_request", "error_description": message},
    )
    assert world.sandbox.add_resource(uri, ("photos.read",)).uri == uri  # nothing was stored


def test_the_cli_names_the_client_and_lists_it(tmp_path: Path) -> None:
    data = ["--data-dir", str(tmp_path)]
    added = vk("clients", "add", "rs", "--redirect-uri", CALLBACK, *data)
    assert added.returncode == 0, added.stderr
    resource = ["resources", "add", "https://api.example/v1", "--scope", "a", "--client"]
    refused = vk(*resource, "zz", *data)
    assert refused.returncode == 2
    assert "--client: no client 'zz'; register it first" in refused.stderr
    ok = vk(*resource, "rs", *data)
    assert ok.returncode == 0, ok.stderr
    listed = vk("resources", "list", *data, env={"COLUMNS": "200", "PATH": "/usr/bin:/bin"})
    row = next(line for line in listed.stdout.splitlines() if "https://api.example/v1" in line)
    cells = [cell.strip() for cell in row.split("│")[1:5]]
    assert cells == ["https://api.example/v1", "https://api.example/v1", "a", "rs"]

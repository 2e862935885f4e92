"""Registering resources (RFC 8707): `valetkey resources`, the admin API, the facade, and the
migration that adds them on SQLite and PostgreSQL."""

from __future__ import annotations

import shlex
from pathlib import Path
from urllib.parse import quote

import httpx
import pytest

from tests.e2e.test_cli import vk
from valetkey import sandbox as facade
from valetkey.provider.settings import build_settings
from valetkey.provider.store.open import open_store

MCP = "http://127.0.0.1:8790/mcp"
DOC = Path(__file__).resolve().parents[2] / "docs" / "sandbox.md"


# -- the CLI --------------------------------------------------------------------------------


def test_resources_add_list_remove(tmp_path: Path, store_url: str | None) -> None:
    db = ["--db", store_url] if store_url else ["--data-dir", str(tmp_path)]
    added = vk(
        "resources",
        "add",
        "HTTPS://Orders.Example:443/v1",
        "--scope",
        "orders.read",
        "--scope",
        "orders.write orders.cancel",
        "--name",
        "Orders API",
        *db,
    )
    assert added.returncode == 0, added.stderr
    assert added.stdout == (
        "added resource https://orders.example/v1 (scopes: orders.cancel orders.read"
        " orders.write)\n"
    )
    again = vk("resources", "add", "https://orders.example/v1", "--scope", "x", *db)
    assert again.returncode == 1
    assert "is registered already; remove it first" in again.stderr
    listing = vk("resources", "list", *db)
    assert "https://orders.example/v1" in listing.stdout
    assert "Orders API" in listing.stdout
    removed = vk("resources", "remove", "https://orders.example/v1", *db)
    assert removed.stdout == "removed resource https://orders.example/v1\n"
    gone = vk("resources", "remove", "https://orders.example/v1", *db)
    assert gone.returncode == 1
    assert "no resource 'https://orders.example/v1'; see `valetkey resources list`" in gone.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["/mcp", "--scope", "a"], "URI must be an absolute https URL, or http to a loopback"),
        (["https://a.example/x#f", "--scope", "a"], "URI must not contain a fragment"),
        (["https://a.example/x?q=1", "--scope", "a"], "URI must not contain a query"),
        (["http://a.example/x", "--scope", "a"], "URI must use https unless it points at a"),
        (["https://u@a.example/x", "--scope", "a"], "URI must not contain userinfo"),
        (["https://a.example/x"], "--scope: name at least one scope the resource serves"),
        (["https://a.example/x", "--scope", 'a"b'], "--scope: 'a\"b' is not a scope token"),
        (["https://a.example/x", "--scope", "a", "--name", "a\tb"], "--name: 1 to 255"),
    ],
)
def test_resources_add_refuses_bad_input(tmp_path: Path, args: list[str], message: str) -> None:
    db = ["--data-dir", str(tmp_path)]
    result = vk("resources", "add", *args, *db)
    assert result.returncode == 2
    assert message in result.stderr
    assert "Traceback" not in result.stderr
    store = open_store(build_settings({"data_dir": str(tmp_path)}, environ={}))
    try:
        assert store.resources() == []
    finally:
        store.close()


def test_the_docs_resources_examples_run(tmp_path: Path) -> None:
    """docs/sandbox.md's `valetkey resources` commands, in order, on a fresh database."""
    lines = [
        line
        for line in DOC.read_text().splitlines()
        if line.startswith(".venv/bin/valetkey resources")
    ]
    assert len(lines) == 4
    outputs = []
    for line in lines:
        args = shlex.split(line)[1:]
        result = vk(*args, "--data-dir", str(tmp_path))
        assert result.returncode == 0, result.stderr
        outputs.append(result.stdout)
    assert outputs[0] == f"added resource {MCP} (scopes: photos.print photos.read)\n"
    assert "Photo MCP server" in outputs[2]
    assert outputs[3] == "removed resource https://orders.example/v1\n"


def test_resources_remove_refuses_a_malformed_uri(tmp_path: Path) -> None:
    result = vk("resources", "remove", "not a uri", "--data-dir", str(tmp_path))
    assert result.returncode == 2
    assert "URI must be an absolute https URL" in result.stderr


# -- the admin API --------------------------------------------------------------------------


def test_admin_resources_crud(admin: httpx.Client) -> None:
    listed = admin.get("/resources").json()["resources"]
    assert {
        "uri": MCP,
        "name": "Photo MCP server",
        "scopes": ["photos.print", "photos.read"],
        "client_id": None,
    } in listed
    made = admin.post(
        "/resources", json={"uri": "https://A.example/api/", "scopes": ["a.read", "a.write"]}
    )
    assert made.status_code == 201
    assert made.json() == {
        "uri": "https://a.example/api/",
        "name": "https://a.example/api/",
        "scopes": ["a.read", "a.write"],
        "client_id": None,
    }
    twice = admin.post("/resources", json={"uri": "https://a.example/api/", "scopes": ["x"]})
    assert (twice.status_code, twice.json()["error"]) == (409, "conflict")
    assert admin.delete("/resources/" + quote("https://a.example/api/", safe="")).status_code == 204
    again = admin.delete("/resources/" + quote("https://a.example/api/", safe=""))
    assert (again.status_code, again.json()["error"]) == (404, "not_found")


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({}, "uri is required"),
        ({"uri": 5, "scopes": ["a"]}, "uri must be a str"),
        ({"uri": "https://b.example/x", "scopes": "a b"}, "scopes must be a JSON list"),
        ({"uri": "https://b.example/x"}, "scopes: name at least one scope"),
        ({"uri": "https://b.example/x", "scopes": [1]}, "scopes is a list of at most 100"),
        ({"uri": "https://b.example/x#f", "scopes": ["a"]}, "uri must not contain a fragment"),
        ({"uri": "relative/x", "scopes": ["a"]}, "uri must be an absolute https URL"),
        ({"uri": "http://b.example/x", "scopes": ["a"]}, "uri must use https unless"),
        ({"uri": "https://b.example/x", "scopes": ["a"], "name": ""}, "name: 1 to 255"),
        ({"uri": "https://b.example/x", "scopes": ["a"], "name": 3}, "name must be a str"),
    ],
)
def test_admin_resources_bad_input(
    admin: httpx.Client, body: dict[str, object], message: str
) -> None:
    answer = admin.post("/resources", json=body)
    assert answer.status_code == 400
    assert answer.json()["error"] == "invalid_request"
    assert answer.json()["error_description"].startswith(message)
    assert "https://b.example/x" not in {
        r["uri"] for r in admin.get("/resources").json()["resources"]
    }


@pytest.mark.parametrize("raw", ["not-a-uri", quote("https://c.example/x#f", safe=""), "%00"])
def test_admin_delete_of_a_malformed_uri_is_400(admin: httpx.Client, raw: str) -> None:
    answer = admin.delete("/resources/" + raw)
    assert answer.status_code == 400
    assert answer.json()["error"] == "invalid_request"


def test_admin_openapi_describes_resources(admin: httpx.Client) -> None:
    document = admin.get("/openapi.json").json()
    assert set(document["paths"]["/admin/resources"]) == {"get", "post"}
    assert set(document["paths"]["/admin/resources/{uri}"]) == {"delete"}
    assert document["components"]["schemas"]["NewResource"]["required"] == ["uri", "scopes"]


# -- the facade -------------------------------------------------------------------------------


def test_the_facade_adds_a_resource(tmp_path: Path) -> None:
    running = facade.start(tmp_path, "--no-demo-data")
    try:
        made = running.add_resource("https://Notes.example/mcp", ["notes.read"], name="Notes")
        assert made == facade.RegisteredResource(
            "https://notes.example/mcp", "Notes", ("notes.read",)
        )
        with pytest.raises(facade.SandboxError, match="409"):
            running.add_resource("https://notes.example/mcp", ["notes.read"])
        with pytest.raises(facade.SandboxError, match="must not contain a fragment"):
            running.add_resource("https://notes.example/mcp#x", ["notes.read"])
    finally:
        running.stop()

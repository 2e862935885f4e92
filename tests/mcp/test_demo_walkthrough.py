"""`valetkey demo --mcp`, run as a user runs it, and what its traffic shows."""

from __future__ import annotations

import io
import xml.etree.ElementTree as ET
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from rich.console import Console

from tests.client.test_demo_and_labs import vk
from valetkey.client.recording import Message
from valetkey.client.walkthrough import DemoResult
from valetkey.mcp.walkthrough import run_mcp_demo
from valetkey.provider.client_documents import FETCHER

pytestmark = pytest.mark.slow
SVG = "{http://www.w3.org/2000/svg}"


@pytest.fixture(scope="module")
def walked(tmp_path_factory: pytest.TempPathFactory) -> tuple[DemoResult, str]:
    out = io.StringIO()
    result = run_mcp_demo(
        tmp_path_factory.mktemp("out"), Console(file=out, width=200, highlight=False)
    )
    return result, out.getvalue()


def _query(message: Message) -> dict[str, list[str]]:
    return parse_qs(urlsplit(message.url).query)


def _form(message: Message) -> dict[str, list[str]]:
    return parse_qs(message.body)


def test_the_cli_walks_ten_steps_and_proves_where_the_tokens_went(tmp_path: Path) -> None:
    result = vk("demo", "--mcp", "--out", str(tmp_path / "out"), cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    out = result.stdout
    positions = [out.index(f"Step {n}  ") for n in range(1, 11)]
    assert positions == sorted(positions)
    assert "Token confinement: the MCP client got 4 access tokens, each with aud = " in out
    assert "carried none of them: no passthrough" in out
    svg = next((tmp_path / "out").glob("mcp-flow-*.svg"))
    root = ET.parse(svg).getroot()  # noqa: S314 (our own file)
    lifelines = [t.text for t in root.iter(f"{SVG}text") if t.get("font-weight") == "700"]
    assert lifelines == ["User", "MCP client", "MCP server", "Authorization server", "Photos API"]
    steps = [int(g.get("data-step", "0")) for g in root.iter(f"{SVG}g") if g.get("data-step")]
    assert steps[:4] == [1, 2, 3, 4]
    assert steps[-1] == 10
    assert steps == sorted(steps)


def test_the_cli_refuses_options_of_the_photo_printer_demo(tmp_path: Path) -> None:
    result = vk("demo", "--mcp", "--lab", "ask-password", cwd=tmp_path)
    assert result.returncode == 2
    assert "--mcp has its own MCP client: it takes neither --client nor --lab" in result.stderr


def test_discovery_starts_from_the_401_challenge(walked: tuple[DemoResult, str]) -> None:
    result, _ = walked
    assert result.ok, result.reason or result.confinement
    client = [m for m in result.messages if m.tap == "client-out"]
    first, prm, metadata = client[0], client[1], client[2]
    assert (first.method, first.path, first.status) == ("POST", "/mcp", 401)
    assert "authorization" not in first.headers
    assert (prm.path, prm.status) == ("/.well-known/oauth-protected-resource/mcp", 200)
    assert (metadata.path, metadata.status) == ("/.well-known/oauth-authorization-server", 200)


def test_both_registrations_and_the_document_fetch(walked: tuple[DemoResult, str]) -> None:
    result, _ = walked
    registered = [m for m in result.messages if m.path == "/register"]
    assert [(m.method, m.status) for m in registered] == [("POST", 201)]
    fetched = [m for m in result.messages if m.path == "/client.json"]
    assert len(fetched) == 1  # fetched once, then cached (max-age=600)
    assert fetched[0].headers["user_agent"] == FETCHER
    authorizations = [
        _query(m) for m in result.messages if m.tap == "browser" and m.path == "/authorize"
    ]
    clients = [a["client_id"][0] for a in authorizations]
    assert clients[:2] == [fetched[0].url, fetched[0].url]  # first, then the step-up
    assert clients[2].startswith("dyn-")  # the dynamically registered one


def test_every_authorization_and_token_request_names_the_server(
    walked: tuple[DemoResult, str],
) -> None:
    result, _ = walked
    mcp = next(m.url for m in result.messages if m.path == "/mcp")
    authorizations = [
        _query(m) for m in result.messages if m.tap == "browser" and m.path == "/authorize"
    ]
    assert len(authorizations) == 3
    for asked in authorizations:
        assert asked["resource"] == [mcp]
        assert asked["code_challenge_method"] == ["S256"]
    assert authorizations[1]["scope"] == ["photos.read photos.print"]  # the step-up
    tokens = [_form(m) for m in result.messages if m.tap == "client-out" and m.path == "/token"]
    grants = [t["grant_type"][0] for t in tokens]
    assert grants == ["authorization_code"] * 2 + ["refresh_token", "authorization_code"]
    assert all(t["resource"] == [mcp] for t in tokens)


def test_step_up_is_a_403_naming_the_scope(walked: tuple[DemoResult, str]) -> None:
    result, out = walked
    calls = [m for m in result.messages if m.tap == "client-out" and m.path == "/mcp"]
    assert [m.status for m in calls] == [401, 200, 403, 200, 200, 200]
    assert "403 insufficient_scope; the challenge asks for scope 'photos.read photos.print'" in out
    assert "print_photo answered: 'no photo p1; none queued'" in out


def test_the_server_used_its_own_token_upstream(walked: tuple[DemoResult, str]) -> None:
    result, _ = walked
    own = [m for m in result.messages if m.tap == "mcp-out"]
    upstream = [m for m in own if m.path == "/api/photos"]
    assert len(upstream) == 4  # one per answered tool call
    client_tokens = {
        m.headers["authorization"] for m in result.messages if m.path == "/mcp" and m.status == 200
    }
    assert {m.headers["authorization"] for m in upstream}.isdisjoint(client_tokens)
    assert [m.path for m in own if m.path == "/token"] == ["/token"]  # its own, once

"""`valetkey probe server` against a hostile server (issue 15): odd discovery documents, a
redirect loop, a server dripping a byte every 5 s, a 1 GiB body, and metadata naming another
host. The run always ends with a report, the odd answers become notes and n/a results with
a reason, and the client secret never reaches the other host."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Iterator

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response, StreamingResponse
from starlette.routing import Route

from tests.support.asgi_server import AsgiServer, serving
from valetkey.probe.report import Run, to_text
from valetkey.probe.server import run_server_probe
from valetkey.probe.session import Target

SECRET = "hostile-probe-secret-0123456789"


async def _drip() -> AsyncIterator[bytes]:
    for _ in range(100):
        yield b" "
        await asyncio.sleep(5)


async def _gigabyte() -> AsyncIterator[bytes]:
    chunk = b"0" * (1 << 20)
    for _ in range(1024):
        yield chunk


def _hostile(other: str, seen: list[dict[str, str]]) -> Starlette:
    async def discovery(request: Request) -> Response:
        kind = request.path_params["kind"]
        base = f"{request.url.scheme}://{request.url.netloc}/{kind}"
        if kind == "notjson":
            return Response("<html>hello</html>", media_type="text/html")
        if kind == "list":
            return Response(json.dumps([1, 2, 3]), media_type="application/json")
        if kind == "drip":
            return StreamingResponse(_drip(), media_type="application/json")
        if kind == "huge":
            return StreamingResponse(_gigabyte(), media_type="application/json")
        return JSONResponse(
            {
                "issuer": base,
                "authorization_endpoint": base + "/authorize",
                "token_endpoint": other + "/token",
                "jwks_uri": base + "/jwks",
                "scopes_supported": ["openid"],
            }
        )

    async def loop(request: Request) -> Response:
        return RedirectResponse(str(request.url), 302)

    routes = [
        Route("/{kind}/.well-known/{name}", discovery),
        Route("/{kind}/authorize", loop),
    ]
    return Starlette(routes=routes)


def _recorder(seen: list[dict[str, str]]) -> Starlette:
    async def anything(request: Request) -> Response:
        body = (await request.body()).decode()
        seen.append({"auth": request.headers.get("authorization", ""), "body": body})
        return JSONResponse({"error": "invalid_request"}, 400)

    return Starlette(routes=[Route("/{path:path}", anything, methods=["GET", "POST"])])


@pytest.fixture(scope="module")
def hostile() -> Iterator[tuple[str, list[dict[str, str]]]]:
    seen: list[dict[str, str]] = []
    with serving(_recorder(seen)) as other:
        server = AsgiServer(_hostile(other.url, seen)).start()
        try:
            yield server.url, seen
        finally:
            server.stop()


LOOPED = "could not run: the browser could not go on: more than 25 steps without arriving anywhere"


def _probe(issuer: str) -> Run:
    target = Target(issuer, "c", "http://127.0.0.1:9/cb", SECRET, None, "alice", "pw")
    return run_server_probe(target)


@pytest.mark.parametrize(
    ("kind", "note"),
    [
        ("notjson", "/.well-known/oauth-authorization-server is not JSON"),
        ("list", "/.well-known/oauth-authorization-server is not a JSON object"),
        ("drip", "discovery failed: timed out"),
        ("huge", "discovery failed: an answer over 2097152 bytes; not read"),
    ],
)
def test_odd_discovery_is_a_note_and_no_traceback(
    hostile: tuple[str, list[dict[str, str]]], kind: str, note: str
) -> None:
    run = _probe(f"{hostile[0]}/{kind}")
    assert run.notes == [f"{note}: the checks that need metadata are n/a"]
    failing = {r.id for r in run.results if r.status != "pass" and r.status != "n/a"}
    assert failing == {"AS-01", "AS-03", "AS-40"}  # no metadata, so no PKCE, no revocation
    assert "AS-04  no metadata" in to_text(run)


def test_loop_and_another_host_never_get_the_secret(
    hostile: tuple[str, list[dict[str, str]]],
) -> None:
    url, seen = hostile
    run = _probe(f"{url}/loop")
    assert [n for n in run.notes if "token_endpoint" in n] == [
        f"warning: the metadata puts token_endpoint on {run.notes and _other(run)}, not the "
        "issuer's origin; probed there, without the client secret"
    ]
    failing = {r.id for r in run.results if r.status != "pass" and r.status != "n/a"}
    assert failing == {"AS-03", "AS-38", "AS-40"}  # true of this server
    assert all("basic" not in s["auth"].lower() and SECRET not in s["body"] for s in seen)
    reasons = {r.id: r.reason for r in run.results}
    assert reasons["AS-23"] == reasons["AS-35"] == LOOPED


def _other(run: Run) -> str:
    note = next(n for n in run.notes if "token_endpoint" in n)
    return note.split(" on ", 1)[1].split(",", 1)[0]

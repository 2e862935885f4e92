"""Client ID Metadata Documents over real sockets: the sandbox fetches a client's document
from a small HTTP server on 127.0.0.1 when the client_id is its URL. Every malformed or
misbehaving document gets its RFC 7591 §3.2.2 error on the error page (never a redirect,
never a 5xx) and stores nothing; the fetch limits hold; the cache follows max-age; the SSRF
guard refuses other hosts unless --cimd-allow names them; and a whole flow works."""

from __future__ import annotations

import html
import json
import os
import re
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.e2e.test_cli import vk as cli
from tests.support.document_server import Answer, DocumentServer
from tests.support.sandbox import Sandbox, start_sandbox
from valetkey.useragent.agent import UserAgent
from valetkey.useragent.authorization import ClientRequest, query_of

CALLBACK = "http://127.0.0.1:8602/callback"
META = "invalid_client_metadata"
URI = "invalid_redirect_uri"


@pytest.fixture(scope="module")
def docs(sandbox: Sandbox) -> Iterator[DocumentServer]:
    """A document server for each sandbox (each store), so its request counts are its own."""
    server = DocumentServer().start()
    yield server
    server.stop()


def _agent(sandbox: Sandbox, client_id: str, redirect_uri: str = CALLBACK) -> UserAgent:
    return UserAgent(
        base_url=sandbox.issuer,
        timeout=15,
        client=ClientRequest(client_id, redirect_uri, "openid profile photos.read"),
    )


def _authorize(sandbox: Sandbox, client_id: str, redirect_uri: str = CALLBACK) -> httpx.Response:
    agent = _agent(sandbox, client_id, redirect_uri)
    try:
        return agent.authorize(agent.request_params().params)
    finally:
        agent.close()


def _page_text(response: httpx.Response) -> str:
    """The page's words, without markup."""
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", response.text)).split())


def _stored(admin: httpx.Client) -> set[str]:
    return {c["client_id"] for c in admin.get("/clients").json()["clients"]}


def _json(data: Any) -> bytes:
    return json.dumps(data).encode()


def _bad_answers(url: str) -> dict[str, tuple[Answer, str, str]]:
    """path: (what the server answers, the error code, what the page says), for `url`."""
    uris = [CALLBACK]
    me = {"client_id": url, "redirect_uris": uris}
    return {
        "/big.json": (
            Answer(body=_json({**me, "pad": "x" * 6000})),
            META,
            "larger than 5120 bytes",
        ),
        "/big-unannounced.json": (
            Answer(body=_json({**me, "pad": "x" * 6000}), length=False),
            META,
            "larger than 5120 bytes",
        ),
        "/text.json": (
            Answer(body=_json(me), content_type="text/plain"),
            META,
            "must be served as application/json, not text/plain",
        ),
        "/html.json": (
            Answer(body=b"<html></html>", content_type="text/html"),
            META,
            "must be served as application/json, not text/html",
        ),
        "/array.json": (Answer(body=b"[1]"), META, "the document is not a JSON object"),
        "/broken.json": (Answer(body=b"{nope"), META, "the document is not a JSON object"),
        "/mismatch.json": (
            Answer(body=_json({**me, "client_id": url + "?other"})),
            META,
            "the document's client_id must equal its URL exactly",
        ),
        "/no-client-id.json": (
            Answer(body=_json({"redirect_uris": uris})),
            META,
            "the document's client_id must equal its URL exactly",
        ),
        "/redirect.json": (
            Answer(302, b"", headers={"location": "/elsewhere.json"}),
            META,
            "answered 302 (a redirect); the sandbox follows no redirects",
        ),
        "/gone.json": (Answer(404, b"{}"), META, "the document URL answered 404, not 200"),
        "/failing.json": (Answer(500, b"{}"), META, "the document URL answered 500, not 200"),
        "/javascript.json": (
            Answer(body=_json({**me, "redirect_uris": ["javascript:alert(1)"]})),
            URI,
            "must use https, http to loopback",
        ),
        "/plain-http.json": (
            Answer(body=_json({**me, "redirect_uris": ["http://app.example/cb"]})),
            URI,
            "must use https unless it points at a loopback address",
        ),
        "/userinfo.json": (
            Answer(body=_json({**me, "redirect_uris": ["https://user@app.example/cb"]})),
            URI,
            "must not contain userinfo",
        ),
        "/basic.json": (
            Answer(body=_json({**me, "token_endpoint_auth_method": "client_secret_basic"})),
            META,
            "client_secret_basic needs a shared secret",
        ),
        "/post.json": (
            Answer(body=_json({**me, "token_endpoint_auth_method": "client_secret_post"})),
            META,
            "client_secret_post needs a shared secret",
        ),
        "/secret.json": (
            Answer(body=_json({**me, "client_secret": "s3cr3t-in-a-public-document"})),
            META,
            "must not hold a client_secret",
        ),
        "/jwt.json": (
            Answer(body=_json({**me, "token_endpoint_auth_method": "private_key_jwt"})),
            META,
            "private_key_jwt is not implemented",
        ),
        "/implicit.json": (
            Answer(body=_json({**me, "grant_types": ["implicit"], "response_types": ["token"]})),
            META,
            "the implicit grant is not offered",
        ),
        "/typed.json": (
            Answer(body=_json({**me, "redirect_uris": CALLBACK})),
            META,
            "redirect_uris is a JSON list",
        ),
    }


BAD_PATHS = list(_bad_answers("").keys())


@pytest.mark.parametrize("path", BAD_PATHS)
def test_a_bad_document_gets_its_error_and_stores_nothing(
    sandbox: Sandbox, docs: DocumentServer, admin: httpx.Client, path: str
) -> None:
    url = docs.url + path
    answer, error, says = _bad_answers(url)[path]
    docs.answers[path] = answer
    response = _authorize(sandbox, url)
    assert response.status_code == 400
    assert "location" not in response.headers  # never redirected (RFC 6749 §4.1.2.1)
    text = _page_text(response)
    assert f"The app's client metadata document cannot be used ({error}):" in text
    assert says in text
    assert url not in _stored(admin)


@pytest.mark.slow
def test_a_document_that_does_not_arrive_within_2_s_is_refused(
    sandbox: Sandbox, docs: DocumentServer, admin: httpx.Client
) -> None:
    url = docs.document("/sleepy.json", redirect_uris=[CALLBACK])
    docs.answers["/sleepy.json"].delay = 4
    response = _authorize(sandbox, url)
    assert response.status_code == 400
    assert "the document did not arrive within 2 s" in _page_text(response)
    assert url not in _stored(admin)


def test_a_fetch_in_progress_does_not_hold_up_the_event_loop(
    sandbox: Sandbox, docs: DocumentServer
) -> None:
    """The fetch runs in a store worker: while the document server holds its answer back,
    discovery and the JWKS (answered on the loop) and a token request (another worker)
    are answered; then the held authorization request completes."""
    url = docs.document("/held.json", redirect_uris=[CALLBACK])
    held = docs.answers["/held.json"]
    held.gate = threading.Event()
    answers: list[httpx.Response] = []
    request = threading.Thread(target=lambda: answers.append(_authorize(sandbox, url)))
    request.start()
    try:
        assert held.arrived.wait(10)
        assert httpx.get(sandbox.issuer + "/.well-known/openid-configuration").status_code == 200
        assert httpx.get(sandbox.issuer + "/jwks.json").status_code == 200
        token = httpx.post(sandbox.issuer + "/token", data={"grant_type": "refresh_token"})
        assert token.status_code == 401  # answered (no client), not queued behind the fetch
        assert answers == []  # the authorization request is still waiting for its document
    finally:
        held.gate.set()
        request.join(15)
    assert answers[0].status_code == 302


@pytest.mark.parametrize(
    ("client_id", "says"),
    [
        ("http://127.0.0.1:9/", "must have a path"),
        ("http://127.0.0.1:9/a/../b.json", "must not contain . or .. path segments"),
        ("http://user@127.0.0.1:9/c.json", "must not contain userinfo"),
        ("http://app.example/client.json", "must use https (http only to a loopback address)"),
    ],
)
def test_a_url_that_cannot_name_a_document_is_not_fetched(
    sandbox: Sandbox, docs: DocumentServer, client_id: str, says: str
) -> None:
    before = sum(docs.hits.values())
    response = _authorize(sandbox, client_id)
    assert response.status_code == 400
    assert f"a client_id URL {says}" in _page_text(response)
    assert sum(docs.hits.values()) == before


def test_the_request_redirect_uri_must_be_in_the_document(
    sandbox: Sandbox, docs: DocumentServer
) -> None:
    url = docs.document("/other-uri.json", redirect_uris=[CALLBACK])
    response = _authorize(sandbox, url, redirect_uri="http://127.0.0.1:8603/elsewhere")
    assert response.status_code == 400
    assert "The redirect_uri is not registered for this app" in _page_text(response)


def test_a_refused_document_is_fetched_again_once_fixed(
    sandbox: Sandbox, docs: DocumentServer
) -> None:
    url = docs.document("/fixed.json", redirect_uris=["javascript:x"])
    assert _authorize(sandbox, url).status_code == 400
    docs.document("/fixed.json", redirect_uris=[CALLBACK])
    response = _authorize(sandbox, url)
    assert response.status_code == 302
    assert response.headers["location"].startswith("/login?request=")
    assert docs.hits["/fixed.json"] == 2


def test_the_cache_follows_max_age(
    sandbox: Sandbox, docs: DocumentServer, admin: httpx.Client
) -> None:
    url = docs.document("/cached.json", cache="public, max-age=120", redirect_uris=[CALLBACK])
    for _ in range(3):
        assert _authorize(sandbox, url).status_code == 302
    assert docs.hits["/cached.json"] == 1  # within max-age: not fetched again
    assert admin.post("/clock", json={"advance": 121}).status_code == 200
    assert _authorize(sandbox, url).status_code == 302
    assert docs.hits["/cached.json"] == 2


def test_a_non_loopback_document_is_refused_by_default(
    sandbox: Sandbox, admin: httpx.Client
) -> None:
    url = "https://cimd.example/client.json"
    response = _authorize(sandbox, url)
    assert response.status_code == 400
    text = _page_text(response)
    assert "fetches client metadata documents only from loopback" in text
    assert "start it with --cimd-allow cimd.example to allow it" in text
    token = httpx.post(
        sandbox.issuer + "/token",
        data={"grant_type": "authorization_code", "client_id": url, "code": "x"},
    )
    assert token.status_code == 401
    assert token.json()["error"] == "invalid_client"
    assert "only from loopback" in token.json()["error_description"]
    assert url not in _stored(admin)


def test_cimd_allow_lets_the_sandbox_fetch_from_that_host(tmp_path: Path) -> None:
    # cimd.invalid never resolves (RFC 6761 §6.4): past the guard, the fetch itself fails
    sandbox = start_sandbox(tmp_path, "--cimd-allow", "cimd.invalid")
    try:
        allowed = _page_text(_authorize(sandbox, "https://cimd.invalid/client.json"))
        assert "the document could not be fetched (ConnectError)" in allowed
        assert "only from loopback" not in allowed
        other = _page_text(_authorize(sandbox, "https://other.invalid/client.json"))
        assert "only from loopback" in other
    finally:
        sandbox.stop()


def test_a_whole_flow_with_a_document_client(
    sandbox: Sandbox, docs: DocumentServer, admin: httpx.Client
) -> None:
    url = docs.document(
        "/photo-tool.json",
        client_name="CIMD Photo Tool",
        redirect_uris=[CALLBACK],
        scope="openid profile photos.read",
        token_endpoint_auth_method="none",
    )
    agent = _agent(sandbox, url)
    try:
        auth = agent.request_params()
        first = agent.authorize(auth.params)
        login = agent.login(first.headers["location"], "alice", sandbox.password("alice"))
        consent_url = login.headers["location"]
        page = _page_text(agent.http.get(consent_url))
        assert "Allow CIMD Photo Tool access?" in page
        assert "returning to 127.0.0.1:8602" in page
        assert "This app registered itself with a metadata document" in page
        callback = agent.consent(consent_url).headers["location"]
        assert callback.startswith(CALLBACK)
        code = query_of(callback)["code"]
    finally:
        agent.close()
    token = httpx.post(
        sandbox.issuer + "/token",
        data={
            "grant_type": "authorization_code",
            "client_id": url,
            "code": code,
            "redirect_uri": CALLBACK,
            "code_verifier": auth.verifier,
        },
    )
    assert token.status_code == 200, token.text
    assert token.json()["token_type"] == "Bearer"
    photos = httpx.get(
        sandbox.issuer + "/api/photos",
        headers={"authorization": f"Bearer {token.json()['access_token']}"},
    )
    assert photos.json()["owner"] == "alice"
    assert docs.hits["/photo-tool.json"] == 1  # authorize and token: one fetch (max-age)
    listed = {c["client_id"]: c for c in admin.get("/clients").json()["clients"]}
    assert listed[url]["origin"] == "cimd"
    assert listed[url]["public"] is True
    assert listed[url]["name"] == "CIMD Photo Tool"
    env = {**os.environ, "COLUMNS": "300"}
    listing = cli("clients", "list", "--db", sandbox.db, env=env).stdout
    row = next(line for line in listing.splitlines() if "/photo-tool.json" in line)
    assert "itself (cimd)" in row

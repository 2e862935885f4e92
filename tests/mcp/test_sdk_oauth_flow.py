"""The official MCP Python SDK's OAuth client (`mcp.client.auth.OAuthClientProvider`) runs the
whole MCP authorization flow against the sandbox and the reference MCP server, registered
each of the three ways: pre-registered, by a client ID metadata document, and by RFC 7591
dynamic registration.

The whole flow: the 401 and its `resource_metadata`, protected-resource metadata, the
authorization server's metadata, registration, the authorization request with PKCE S256 and
`resource`, the token request with `resource`, `tools/call`, the step-up that `print_photo`
asks for (403 `insufficient_scope`), and a refresh once the access token has expired. The
browser's part (sign-in and consent) is valetkey's user agent, handed the authorization URL
by the SDK's redirect handler. Every request the SDK makes is recorded, and the test reads
what it asserts from that traffic and from the sandbox's own records.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass, field
from urllib.parse import parse_qs, urlsplit

import httpx2
import pytest
from mcp.client.auth import OAuthClientProvider
from mcp.client.streamable_http import streamable_http_client
from mcp.shared.auth import (
    AuthorizationCodeResult,
    OAuthClientInformationFull,
    OAuthClientMetadata,
    OAuthToken,
)

from mcp import Client
from tests.mcp.conftest import (
    CALLBACK,
    SCOPES,
    TOKEN_WAIT,
    Flow,
    assert_whole_flow,
    client_document,
    sign_in_and_consent_async,
)
from tests.support.document_server import DocumentServer
from tests.support.tls import LoopbackCertificate
from valetkey.sandbox import Sandbox

pytestmark = pytest.mark.slow


@dataclass
class Traffic:
    """Every request the SDK's HTTP client sent, as (method, URL, form or JSON body)."""

    sent: list[tuple[str, str, dict[str, list[str]]]] = field(default_factory=list)
    authorizations: list[dict[str, list[str]]] = field(default_factory=list)

    async def record(self, request: httpx2.Request) -> None:
        body = request.content.decode() if request.content else ""
        kind = request.headers.get("content-type", "")
        fields = parse_qs(body) if "form-urlencoded" in kind else {}
        if "json" in kind and body:
            fields = {k: [json.dumps(v)] for k, v in json.loads(body).items()}
        self.sent.append((request.method, str(request.url), fields))

    def to(self, path: str) -> list[dict[str, list[str]]]:
        return [f for _, url, f in self.sent if urlsplit(url).path == path]


class Memory:
    """The SDK's TokenStorage, in memory; `client` preloads a pre-registered client."""

    def __init__(self, client: OAuthClientInformationFull | None = None) -> None:
        self.tokens: OAuthToken | None = None
        self.client = client

    async def get_tokens(self) -> OAuthToken | None:
        return self.tokens

    async def set_tokens(self, tokens: OAuthToken) -> None:
        self.tokens = tokens

    async def get_client_info(self) -> OAuthClientInformationFull | None:
        return self.client

    async def set_client_info(self, client_info: OAuthClientInformationFull) -> None:
        self.client = client_info


class Browser:
    """The user's part: sign in and consent at the sandbox, stop at the callback."""

    def __init__(self, sandbox: Sandbox, traffic: Traffic) -> None:
        self.sandbox, self.traffic = sandbox, traffic
        self.answer = AuthorizationCodeResult(code="")

    async def redirect(self, url: str) -> None:
        self.traffic.authorizations.append(parse_qs(urlsplit(url).query))
        answer = await sign_in_and_consent_async(self.sandbox, url)
        self.answer = AuthorizationCodeResult(
            code=answer["code"], state=answer["state"], iss=answer["iss"]
        )

    async def callback(self) -> AuthorizationCodeResult:
        return self.answer


async def _session(url: str, auth: OAuthClientProvider, traffic: Traffic) -> list[str]:
    """list_tools, call list_photos (photos.read), call print_photo (step-up to
    photos.print), wait for the token to expire, and call list_photos again (refresh)."""
    answers: list[str] = []
    hooks = {"request": [traffic.record]}
    async with (
        httpx2.AsyncClient(auth=auth, event_hooks=hooks, timeout=30) as http,
        Client(streamable_http_client(url, http_client=http)) as client,
    ):
        tools = await client.list_tools()
        answers.append(",".join(t.name for t in tools.tools))
        for name, arguments in (("list_photos", {}), ("print_photo", {"photo_id": "p1"})):
            result = await client.call_tool(name, arguments)
            answers.append(getattr(result.content[0], "text", ""))
        await asyncio.sleep(TOKEN_WAIT)
        result = await client.call_tool("list_photos", {})
        answers.append(getattr(result.content[0], "text", ""))
    return answers


def _provider(
    url: str, browser: Browser, storage: Memory, metadata_url: str | None = None
) -> OAuthClientProvider:
    metadata = OAuthClientMetadata(
        redirect_uris=[CALLBACK],  # type: ignore[list-item]
        client_name="SDK test client",
        grant_types=["authorization_code", "refresh_token"],
        response_types=["code"],
        token_endpoint_auth_method="none",
    )
    return OAuthClientProvider(
        url,
        metadata,
        storage,
        redirect_handler=browser.redirect,
        callback_handler=browser.callback,
        client_metadata_url=metadata_url,
    )


def _assert_whole_flow(
    sandbox: Sandbox, url: str, traffic: Traffic, storage: Memory, answers: list[str]
) -> None:
    assert storage.tokens is not None
    tokens = traffic.to("/token")
    flow = Flow(
        [u for _, u, _ in traffic.sent],
        traffic.authorizations,
        tokens,
        answers,
        storage.tokens.access_token,
    )
    assert_whole_flow(
        sandbox, url, flow, ["authorization_code", "authorization_code", "refresh_token"]
    )
    assert all(t["code_verifier"] for t in tokens[:2])


def test_a_pre_registered_client_completes_the_whole_flow(sandbox: Sandbox, mcp_url: str) -> None:
    registered = sandbox.add_client(
        "sdk-pre-registered",
        [CALLBACK],
        public=True,
        scopes=" ".join((*SCOPES, "offline_access")),
        grants=("authorization_code", "refresh_token"),
    )
    storage = Memory(
        OAuthClientInformationFull(
            client_id=registered.client_id,
            redirect_uris=[CALLBACK],  # type: ignore[list-item]
            token_endpoint_auth_method="none",
            grant_types=["authorization_code", "refresh_token"],
        )
    )
    traffic = Traffic()
    auth = _provider(mcp_url, Browser(sandbox, traffic), storage)
    answers = asyncio.run(_session(mcp_url, auth, traffic))
    _assert_whole_flow(sandbox, mcp_url, traffic, storage, answers)
    assert traffic.to("/register") == []


def test_a_dynamically_registered_client_completes_the_whole_flow(
    sandbox: Sandbox, mcp_url: str
) -> None:
    storage, traffic = Memory(), Traffic()
    auth = _provider(mcp_url, Browser(sandbox, traffic), storage)
    answers = asyncio.run(_session(mcp_url, auth, traffic))
    _assert_whole_flow(sandbox, mcp_url, traffic, storage, answers)
    assert len(traffic.to("/register")) == 1
    assert storage.client is not None
    listed = sandbox.admin.get("/clients").json()["clients"]
    mine = [c for c in listed if c["client_id"] == storage.client.client_id]
    assert [c["origin"] for c in mine] == ["dynamic"]


def test_a_client_id_metadata_document_client_completes_the_whole_flow(
    sandbox: Sandbox, mcp_url: str, tls: LoopbackCertificate
) -> None:
    documents = DocumentServer(tls).start()
    try:
        document_url = client_document(documents, "/clients/sdk.json", "SDK test client (CIMD)")
        storage, traffic = Memory(), Traffic()
        auth = _provider(mcp_url, Browser(sandbox, traffic), storage, document_url)
        answers = asyncio.run(_session(mcp_url, auth, traffic))
    finally:
        documents.stop()
    _assert_whole_flow(sandbox, mcp_url, traffic, storage, answers)
    assert traffic.to("/register") == []
    assert traffic.authorizations[0]["client_id"] == [document_url]
    assert documents.hits["/clients/sdk.json"] >= 1

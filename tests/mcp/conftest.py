"""What the MCP authorization-flow tests share: a sandbox with short-lived access tokens
that trusts a throwaway loopback certificate (for https client ID metadata documents), the
reference MCP server registered at it as a resource, and the user's part of the flow."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from dataclasses import dataclass
from urllib.parse import parse_qs, urlsplit

import pytest

from tests.support.document_server import DocumentServer
from tests.support.mcp_server import serving_mcp
from tests.support.tls import LoopbackCertificate, loopback_certificate
from valetkey.mcp.guard import App
from valetkey.mcp.server import McpSettings, build_app
from valetkey.mcp.upstream import Credentials
from valetkey.mcp.verification import LEEWAY
from valetkey.oauth.jose import unverified_claims
from valetkey.sandbox import Sandbox, start

CALLBACK = "http://127.0.0.1:8791/callback"  # never served: the browser stops there
SCOPES = ("photos.read", "photos.print")
TOKEN_TTL = 6  # seconds: short, so that a flow sees its access token expire
# how long a flow waits for it to expire, at the reference server too (its clock-skew leeway)
TOKEN_WAIT = TOKEN_TTL + LEEWAY + 1
USER, PASSWORD = "carol", "carol-password-123"
# tools/list, list_photos, print_photo (after the step-up), list_photos (after the refresh)
EXPECTED_ANSWERS = ["list_photos,print_photo", "no photos", "no photo p1; none queued", "no photos"]


@dataclass(frozen=True)
class Flow:
    """What an MCP client did, as the test recorded it: every URL it requested, the query of
    each authorization URL it sent the user to, the form of each token request, the tools'
    answers, and the access token it ended with."""

    urls: list[str]
    authorizations: list[dict[str, list[str]]]
    token_requests: list[dict[str, list[str]]]
    answers: list[str]
    access_token: str


def assert_whole_flow(sandbox: Sandbox, url: str, flow: Flow, grants: list[str]) -> None:
    """The MCP authorization flow, whole: discovery from the 401, two authorizations (the
    first and the step-up) with PKCE S256 and `resource`, the token requests `grants` in
    order, each with `resource`, and a token for this server with the scopes it needs."""
    # each tool ran and reached the sandbox's photos API with the server's own token (a
    # client-credentials token has no user, so no photos); print_photo after the step-up
    assert flow.answers == EXPECTED_ANSWERS, flow.answers
    paths = [urlsplit(u).path for u in flow.urls]
    assert "/.well-known/oauth-protected-resource/mcp" in paths  # from the 401's challenge
    assert any(p.startswith("/.well-known/oauth-authorization-server") for p in paths)
    assert len(flow.authorizations) == 2, flow.authorizations
    for asked in flow.authorizations:
        assert asked["code_challenge_method"] == ["S256"]
        assert asked["resource"] == [url]
    assert set(flow.authorizations[1]["scope"][0].split()) >= set(SCOPES)
    assert [t["grant_type"][0] for t in flow.token_requests] == grants
    assert all(t["resource"] == [url] for t in flow.token_requests), flow.token_requests
    claims = unverified_claims(flow.access_token)
    assert (claims["iss"], claims["aud"]) == (sandbox.issuer, url)
    assert set(str(claims["scope"]).split()) >= set(SCOPES)
    hosts = {urlsplit(url).netloc, urlsplit(sandbox.issuer).netloc}
    assert {urlsplit(u).netloc for u in flow.urls} <= hosts


def client_document(documents: DocumentServer, path: str, name: str) -> str:
    """Serve the client ID metadata document of a public MCP client at `path`; its URL."""
    return documents.document(
        path,
        client_name=name,
        redirect_uris=[CALLBACK],
        grant_types=["authorization_code", "refresh_token"],
        response_types=["code"],
        token_endpoint_auth_method="none",
    )


def sign_in_and_consent(sandbox: Sandbox, url: str) -> dict[str, str]:
    """The user's part: sign in and consent at the sandbox; the callback's parameters."""
    agent = sandbox.login_as(USER, PASSWORD)
    try:
        visit = agent.navigate(url, lambda next_url: next_url.startswith(CALLBACK))
    finally:
        agent.close()
    assert visit.stopped_at is not None, visit.response.text[:500]
    answer = {k: v[0] for k, v in parse_qs(urlsplit(visit.stopped_at).query).items()}
    assert "code" in answer, answer
    return answer


async def sign_in_and_consent_async(sandbox: Sandbox, url: str) -> dict[str, str]:
    return await asyncio.to_thread(sign_in_and_consent, sandbox, url)


@pytest.fixture(scope="module")
def tls(tmp_path_factory: pytest.TempPathFactory) -> LoopbackCertificate:
    return loopback_certificate(tmp_path_factory.mktemp("tls"))


@pytest.fixture(scope="module")
def sandbox(
    tmp_path_factory: pytest.TempPathFactory, tls: LoopbackCertificate
) -> Iterator[Sandbox]:
    """Short-lived access tokens; the https document server's certificate trusted."""
    running = start(
        tmp_path_factory.mktemp("mcp-sandbox"),
        "--no-demo-data",
        env={"VALETKEY_ACCESS_TOKEN_TTL": str(TOKEN_TTL), "SSL_CERT_FILE": str(tls.cert)},
        strict_hashing=False,
    )
    running.add_user(USER, PASSWORD, name="Carol")
    try:
        yield running
    finally:
        running.stop()


@pytest.fixture(scope="module")
def mcp_url(sandbox: Sandbox) -> Iterator[str]:
    upstream = sandbox.add_client(
        "mcp-photos-upstream", [CALLBACK], scopes="photos.read", grants=("client_credentials",)
    )
    assert upstream.client_secret is not None
    credentials = Credentials(upstream.client_id, upstream.client_secret)

    def build(url: str) -> App:
        return build_app(McpSettings(url, sandbox.issuer, credentials))

    with serving_mcp(build) as url:
        sandbox.add_resource(url, SCOPES, name="Photos (MCP)")
        yield url

"""The step-by-step MCP client refuses what MCP authorization says it must refuse, against
real HTTP servers that serve the wrong metadata."""

from __future__ import annotations

import json
from collections.abc import Iterator
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from tests.support.document_server import Answer, DocumentServer
from valetkey.mcp.client import Challenge, McpClient, McpFlowError, Registration

CALLBACK = "http://127.0.0.1:8791/callback"


@pytest.fixture
def site() -> Iterator[DocumentServer]:
    server = DocumentServer().start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def client(site: DocumentServer) -> Iterator[McpClient]:
    with httpx.Client(timeout=5) as http:
        yield McpClient(site.url + "/mcp", http, CALLBACK)


def _serve(site: DocumentServer, path: str, body: object) -> None:
    site.answers[path] = Answer(body=json.dumps(body).encode())


def _as_metadata(site: DocumentServer, **change: object) -> dict[str, object]:
    return {
        "issuer": site.url,
        "authorization_endpoint": site.url + "/authorize",
        "token_endpoint": site.url + "/token",
        "code_challenge_methods_supported": ["S256"],
        "authorization_response_iss_parameter_supported": True,
        **change,
    }


def test_metadata_for_another_resource_is_refused(site: DocumentServer, client: McpClient) -> None:
    _serve(site, "/prm", {"resource": site.url + "/other", "authorization_servers": [site.url]})
    with pytest.raises(McpFlowError) as refused:
        client.resource_metadata(Challenge(401, "", "", site.url + "/prm"))
    assert refused.value.step == 2
    assert str(refused.value) == f"the metadata at {site.url}/prm is for '{site.url}/other'"


def test_without_a_pointer_the_well_known_urls_are_tried_in_order(
    site: DocumentServer, client: McpClient
) -> None:
    document = {"resource": site.url + "/mcp", "authorization_servers": [site.url]}
    _serve(site, "/.well-known/oauth-protected-resource", document)
    assert client.resource_metadata(Challenge(401, "", "", "")) == document
    assert list(site.hits) == [
        "/.well-known/oauth-protected-resource/mcp",  # path-inserted first (RFC 9728 §3.1)
        "/.well-known/oauth-protected-resource",
    ]


def test_a_server_without_s256_is_refused(site: DocumentServer, client: McpClient) -> None:
    _serve(
        site,
        "/.well-known/oauth-authorization-server",
        _as_metadata(site, code_challenge_methods_supported=["plain"]),
    )
    with pytest.raises(McpFlowError) as refused:
        client.authorization_server(site.url)
    assert refused.value.step == 3
    assert str(refused.value).startswith(
        f"refusing {site.url}/.well-known/oauth-authorization-server: it does not list S256"
    )


def test_openid_configuration_is_the_second_place_to_look(
    site: DocumentServer, client: McpClient
) -> None:
    _serve(site, "/.well-known/openid-configuration", _as_metadata(site))
    assert client.authorization_server(site.url)["issuer"] == site.url
    assert list(site.hits) == [
        "/.well-known/oauth-authorization-server",
        "/.well-known/openid-configuration",
    ]


def test_metadata_naming_another_issuer_is_refused(site: DocumentServer, client: McpClient) -> None:
    _serve(site, "/.well-known/oauth-authorization-server", _as_metadata(site, issuer="x"))
    with pytest.raises(McpFlowError, match=r"its issuer 'x' is not"):
        client.authorization_server(site.url)


def test_no_metadata_document_without_the_servers_say_so(
    site: DocumentServer, client: McpClient
) -> None:
    _serve(site, "/.well-known/oauth-authorization-server", _as_metadata(site))
    client.authorization_server(site.url)
    with pytest.raises(McpFlowError) as refused:
        client.by_document("https://app.example/client.json")
    assert (refused.value.step, str(refused.value)) == (
        4,
        "the authorization server does not take metadata documents",
    )


@pytest.mark.parametrize(
    ("answer", "reason"),
    [
        ({"code": "c", "state": "other", "iss": "ISSUER"}, "the answer's state is not the one we"),
        ({"code": "c", "state": "STATE"}, "the answer's iss None is not"),
        ({"code": "c", "state": "STATE", "iss": "ISSUER/"}, "the answer's iss 'ISSUER/' is not"),
        (
            {"error": "access_denied", "state": "STATE", "iss": "ISSUER"},
            "the authorization server answered access_denied",
        ),
    ],
)
def test_an_authorization_response_that_does_not_answer_us_is_refused(
    site: DocumentServer, client: McpClient, answer: dict[str, str], reason: str
) -> None:
    _serve(site, "/.well-known/oauth-authorization-server", _as_metadata(site))
    client.authorization_server(site.url)
    url, pending = client.authorization_url(Registration("c1", "test"), "photos.read")
    asked = parse_qs(urlsplit(url).query)
    assert (asked["resource"], asked["code_challenge_method"]) == ([client.url], ["S256"])
    filled = {
        k: v.replace("STATE", pending.state).replace("ISSUER", site.url) for k, v in answer.items()
    }
    with pytest.raises(McpFlowError) as refused:
        client.code(filled, pending)
    assert refused.value.step == 5
    assert str(refused.value).startswith(reason.replace("ISSUER", site.url))

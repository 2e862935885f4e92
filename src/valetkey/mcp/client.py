"""A step-by-step MCP client: MCP authorization (2025-11-25) written out where a reader can
see each safeguard, as the photo-printer app does for the authorization-code flow.

1  call the server without a token: 401 with `WWW-Authenticate: Bearer resource_metadata=`
   (RFC 9728 §5.1), and the `scope` to ask for;
2  fetch the protected-resource metadata; its `resource` must be the server's URL (§3.3);
3  find the authorization server's metadata at the URLs MCP lists, in order; its `issuer` must
   be the one named, and it must support PKCE S256 (else: refuse);
4  register: a client ID metadata document (the client id is the document's URL), or RFC 7591
   dynamic registration;
5  send the user to the authorization endpoint with PKCE S256, `state` and `resource`;
   check the answer's `state` (constant time, single use) and `iss` (RFC 9207, byte for byte);
6  redeem the code with the verifier and the same `resource` (RFC 8707 §2.2);
7  call tools with the access token, in the Authorization header only;
8  on 403 `insufficient_scope`, authorize again for the scope the challenge names;
9  refresh with the refresh token and the same `resource`.

No step sends a token anywhere but the MCP server (access) or the token endpoint (refresh).
"""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass, field
from typing import Any

import httpx

from valetkey.mcp import jsonrpc
from valetkey.mcp.metadata import resource_metadata_urls
from valetkey.oauth.authorization_request import AuthorizationRequest
from valetkey.oauth.bearer_challenge import challenge_params
from valetkey.oauth.pkce import Pkce
from valetkey.oauth.scope import Scope
from valetkey.oauth.server_metadata import metadata_problem, metadata_urls


class McpFlowError(Exception):
    """A step could not be taken; `step` is its number above."""

    def __init__(self, step: int, reason: str) -> None:
        super().__init__(reason)
        self.step = step


@dataclass(frozen=True)
class Challenge:
    """What a 401 or 403 from the MCP server asked for (RFC 6750 §3, RFC 9728 §5.1)."""

    status: int
    error: str
    scope: str
    resource_metadata: str


@dataclass(frozen=True)
class Registration:
    client_id: str
    how: str  # "client ID metadata document" or "dynamic registration (RFC 7591)"


@dataclass(frozen=True)
class Pending:
    """One authorization request in flight: what its answer is checked against."""

    state: str
    pkce: Pkce
    scope: str
    client_id: str


@dataclass(frozen=True)
class Tokens:
    access_token: str
    refresh_token: str | None
    scope: str


@dataclass
class McpClient:
    url: str  # the MCP server's URL: also the `resource` of every request (RFC 8707 §2)
    http: httpx.Client
    redirect_uri: str
    issuer: str = ""
    server: dict[str, Any] = field(default_factory=dict)  # the AS metadata, from step 3
    _next_id: int = 0

    # -- step 1 and 7: MCP requests --------------------------------------------------------

    def call(self, method: str, params: dict[str, Any], token: str | None) -> httpx.Response:
        """One JSON-RPC request; the token only ever in the Authorization header."""
        self._next_id += 1
        headers = {"accept": jsonrpc.ACCEPT, "mcp-protocol-version": jsonrpc.PROTOCOL_VERSION}
        if token is not None:
            headers["authorization"] = f"Bearer {token}"
        body = {**jsonrpc.rpc_body(method, params), "id": self._next_id}
        return self.http.post(self.url, json=body, headers=headers)

    def initialize(self, token: str | None) -> httpx.Response:
        return self.call("initialize", jsonrpc.initialize_params("valetkey-demo-mcp-client"), token)

    def tool(self, name: str, arguments: dict[str, Any], token: str) -> httpx.Response:
        return self.call("tools/call", {"name": name, "arguments": arguments}, token)

    @staticmethod
    def challenge(response: httpx.Response) -> Challenge | None:
        """The Bearer challenge of a 401 or 403, or None (the request went through)."""
        if response.status_code not in (401, 403):
            return None
        params = challenge_params(response.headers.get("www-authenticate", "")) or {}
        return Challenge(
            response.status_code,
            params.get("error", ""),
            params.get("scope", ""),
            params.get("resource_metadata", ""),
        )

    # -- step 2 -----------------------------------------------------------------------------

    def resource_metadata(self, challenge: Challenge) -> dict[str, Any]:
        """RFC 9728: from the challenge's pointer, else the well-known URLs in order."""
        urls = (challenge.resource_metadata,) if challenge.resource_metadata else ()
        for url in urls or resource_metadata_urls(self.url):
            document = _json_object(self.http.get(url))
            if document is None:
                continue
            if document.get("resource") != self.url:  # RFC 9728 §3.3: a mix-up otherwise
                raise McpFlowError(2, f"the metadata at {url} is for {document.get('resource')!r}")
            servers = document.get("authorization_servers")
            if not isinstance(servers, list) or not servers or not isinstance(servers[0], str):
                raise McpFlowError(2, "the metadata names no authorization server")
            return document
        raise McpFlowError(2, "no protected-resource metadata was found")

    # -- step 3 -----------------------------------------------------------------------------

    def authorization_server(self, issuer: str) -> dict[str, Any]:
        for url in metadata_urls(issuer):
            document = _json_object(self.http.get(url))
            if document is None:
                continue
            problem = metadata_problem(document, issuer)
            if problem is not None:
                raise McpFlowError(3, f"refusing {url}: {problem}")
            self.issuer, self.server = issuer, document
            return document
        raise McpFlowError(3, f"{issuer} serves no metadata at any URL MCP clients try")

    # -- step 4 -----------------------------------------------------------------------------

    def by_document(self, document_url: str) -> Registration:
        """The client id is the document's URL; the AS fetches it when it first sees it."""
        if self.server.get("client_id_metadata_document_supported") is not True:
            raise McpFlowError(4, "the authorization server does not take metadata documents")
        return Registration(document_url, "client ID metadata document")

    def register(self, name: str) -> Registration:
        endpoint = self.server.get("registration_endpoint")
        if not isinstance(endpoint, str):
            raise McpFlowError(4, "the authorization server offers no dynamic registration")
        answer = self.http.post(
            endpoint,
            json={
                "client_name": name,
                "redirect_uris": [self.redirect_uri],
                "grant_types": ["authorization_code", "refresh_token"],
                "response_types": ["code"],
                "token_endpoint_auth_method": "none",  # a public client: PKCE protects its code
            },
        )
        body = _json_object(answer)
        if answer.status_code != 201 or body is None or not isinstance(body.get("client_id"), str):
            raise McpFlowError(4, f"registration was refused ({_error(answer)})")
        return Registration(body["client_id"], "dynamic registration (RFC 7591)")

    # -- step 5 -----------------------------------------------------------------------------

    def authorization_url(self, registration: Registration, scope: str) -> tuple[str, Pending]:
        pkce = Pkce.new()
        request = AuthorizationRequest(
            client_id=registration.client_id,
            redirect_uri=self.redirect_uri,
            scope=Scope.lenient(scope),
            state=secrets.token_urlsafe(32),
            code_challenge=pkce.challenge,
            code_challenge_method=pkce.method,
            extra={"resource": self.url},  # RFC 8707 §2.1: a token for this server only
        )
        assert request.state is not None
        pending = Pending(request.state, pkce, scope, registration.client_id)
        return request.url(str(self.server["authorization_endpoint"])), pending

    def code(self, answer: dict[str, str], pending: Pending) -> str:
        """The code of the authorization response, once it is shown to answer our request."""
        returned = answer.get("state", "")
        if not hmac.compare_digest(returned.encode(), pending.state.encode()):
            raise McpFlowError(5, "the answer's state is not the one we sent (RFC 6749 §10.12)")
        iss_expected = self.server.get("authorization_response_iss_parameter_supported")
        if (iss_expected or "iss" in answer) and answer.get("iss") != self.issuer:
            # RFC 9207 §2.4: compared byte for byte with the issuer the metadata came from
            raise McpFlowError(5, f"the answer's iss {answer.get('iss')!r} is not {self.issuer}")
        if "error" in answer:
            raise McpFlowError(5, f"the authorization server answered {answer['error']}")
        if not answer.get("code"):
            raise McpFlowError(5, "the answer has no code")
        return answer["code"]

    # -- steps 6 and 9 ----------------------------------------------------------------------

    def exchange(self, pending: Pending, code: str) -> Tokens:
        return self._token(
            6,
            {
                "grant_type": "authorization_code",
                "code": code,
                "redirect_uri": self.redirect_uri,
                "code_verifier": pending.pkce.verifier,
                "client_id": pending.client_id,
                "resource": self.url,
            },
        )

    def refresh(self, client_id: str, tokens: Tokens) -> Tokens:
        if tokens.refresh_token is None:
            raise McpFlowError(9, "no refresh token was issued")
        data = {
            "grant_type": "refresh_token",
            "refresh_token": tokens.refresh_token,
            "client_id": client_id,
            "resource": self.url,
        }
        renewed = self._token(9, data)
        kept = renewed.refresh_token or tokens.refresh_token  # rotated, or kept (RFC 6749 §6)
        return Tokens(renewed.access_token, kept, renewed.scope)

    def _token(self, step: int, data: dict[str, str]) -> Tokens:
        answer = self.http.post(
            str(self.server["token_endpoint"]), data=data, headers={"accept": "application/json"}
        )
        body = _json_object(answer)
        if answer.status_code != 200 or body is None or not body.get("access_token"):
            raise McpFlowError(step, f"the token endpoint refused ({_error(answer)})")
        refresh = body.get("refresh_token")
        return Tokens(
            str(body["access_token"]),
            refresh if isinstance(refresh, str) else None,
            str(body.get("scope", "")),
        )


def tool_text(response: httpx.Response) -> str | None:
    """The text a tools/call answered, None when it was not answered with a result."""
    result = jsonrpc.rpc_result(response)
    if result is None:
        return None
    content = result.get("content")
    parts = content if isinstance(content, list) else []
    return "\n".join(str(p.get("text", "")) for p in parts if isinstance(p, dict))


def _json_object(response: httpx.Response) -> dict[str, Any] | None:
    if response.status_code not in (200, 201):
        return None
    try:
        body = response.json()
    except ValueError:
        return None
    return body if isinstance(body, dict) else None


def _error(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return f"HTTP {response.status_code}"
    if isinstance(body, dict) and body.get("error"):
        return f"{body['error']}: {body.get('error_description', '')}".rstrip(": ")
    return f"HTTP {response.status_code}"

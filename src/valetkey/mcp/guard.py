"""The ASGI layer in front of the SDK's streamable-HTTP app: RFC 9728 metadata, bearer-token
verification and per-tool scopes, with the RFC 6750 §3 challenges.

Only the Authorization header carries a token (RFC 6750 §2.1; OAuth 2.1 drops the query and
form-body methods), so a token in the query or a form body is no token: 401. `Origin` is
checked by the SDK's transport security, after this layer (a foreign Origin gets 403).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass
from typing import Any

import httpx

from valetkey.mcp import challenges, metadata, scopes
from valetkey.mcp.challenges import Refusal
from valetkey.mcp.verification import TokenRejected, Verifier

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
App = Callable[[Scope, Receive, Send], Awaitable[None]]

MAX_BODY = 1024 * 1024
log = logging.getLogger("valetkey.mcp")


@dataclass
class Guard:
    inner: App
    verifier: Verifier
    http: httpx.AsyncClient
    mcp_path: str = "/mcp"

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.inner(scope, receive, send)  # lifespan: the SDK's session manager
            return
        path = scope["path"]
        resource = self.verifier.resource
        if path in metadata.metadata_paths(resource) and scope["method"] in ("GET", "HEAD"):
            await _json(send, 200, self.document(), [(b"access-control-allow-origin", b"*")])
        elif path.rstrip("/") == self.mcp_path:
            await self._guarded(scope, receive, send)
        else:
            await _json(send, 404, {"error": "not_found"})

    def document(self) -> dict[str, Any]:
        resource, issuer = self.verifier.resource, self.verifier.issuer
        return metadata.document(resource, issuer, scopes.SCOPES_SUPPORTED)

    async def _guarded(self, scope: Scope, receive: Receive, send: Send) -> None:
        body = await _body(receive)
        if body is None:
            await _json(send, 413, {"error": "invalid_request", "error_description": "too big"})
            return
        refusal = await self.refusal(scope, body)
        if refusal is not None:
            header = self.challenge(refusal)
            await _raw(send, refusal.status, refusal.body(), [(b"www-authenticate", header)])
            return
        await self.inner(scope, _replay(body, receive), send)

    def challenge(self, refusal: Refusal) -> str:
        return refusal.challenge(metadata.metadata_url(self.verifier.resource))

    def bearer(self, scope: Scope) -> str | None:
        """The token of the Authorization header (RFC 6750 §2.1), the only place we read."""
        return _bearer(scope)

    async def refusal(self, scope: Scope, body: bytes) -> Refusal | None:
        """Why the request may not reach the MCP server, or None when it may."""
        wanted = scopes.needed(body)
        token = self.bearer(scope)
        if token is None:
            return challenges.no_token(" ".join(wanted[:1]))
        try:
            verified = await self.verifier.verify(token, self.http)
        except TokenRejected as exc:
            log.info("refused a token: %s", exc)
            return challenges.invalid_token(str(exc))
        except (httpx.HTTPError, ValueError):
            log.warning("could not reach the authorization server to verify a token")
            return challenges.invalid_token("the token could not be verified now; try again")
        if not set(wanted) <= verified.scopes:  # RFC 6750 §3.1
            return challenges.insufficient_scope(" ".join(wanted))
        return None


def _bearer(scope: Scope) -> str | None:
    for name, value in scope["headers"]:
        if name == b"authorization":
            scheme, _, token = bytes(value).decode("latin-1").partition(" ")
            if scheme.lower() == "bearer" and token.strip():
                return token.strip()
    return None


async def _body(receive: Receive) -> bytes | None:
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] != "http.request":
            return b"".join(chunks)
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > MAX_BODY:
            return None
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks)


def _replay(body: bytes, receive: Receive) -> Receive:
    sent = False

    async def again() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return again


async def _json(
    send: Send, status: int, data: dict[str, Any], headers: list[tuple[bytes, Any]] | None = None
) -> None:
    await _raw(send, status, json.dumps(data).encode(), headers or [])


async def _raw(send: Send, status: int, body: bytes, headers: list[tuple[bytes, Any]]) -> None:
    encoded = [(k, v.encode() if isinstance(v, str) else v) for k, v in headers]
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"cache-control", b"no-store"),
                (b"content-length", str(len(body)).encode()),
                *encoded,
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})

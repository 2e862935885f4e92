"""A test double of a careless authorization server: a reverse proxy in front of the sandbox
that accepts any client secret (it swaps whatever secret the client sent for the real one,
like oidc-provider-mock does). Origins in bodies and redirects are rewritten to the proxy's."""

from __future__ import annotations

import base64
from urllib.parse import parse_qsl, urlencode

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

HOP_HEADERS = {"host", "content-length", "connection", "transfer-encoding", "content-encoding"}


def any_secret_proxy(upstream: str, client_id: str, secret: str) -> Starlette:
    real_basic = "Basic " + base64.b64encode(f"{client_id}:{secret}".encode()).decode()
    public = {"origin": ""}  # the proxy's own origin, learned from the first request

    async def forward(request: Request) -> Response:
        public["origin"] = f"{request.url.scheme}://{request.url.netloc}"
        headers = {k: v for k, v in request.headers.items() if k not in HOP_HEADERS}
        body = await request.body()
        if request.url.path == "/token":
            headers, body = _any_secret(headers, body, secret, real_basic)
        async with httpx.AsyncClient(base_url=upstream) as http:
            answer = await http.request(
                request.method,
                request.url.path,
                params=request.url.query,
                headers=headers,
                content=body,
            )
        content = answer.content.replace(upstream.encode(), public["origin"].encode())
        out = {k: v for k, v in answer.headers.items() if k not in HOP_HEADERS}
        if "location" in out:
            out["location"] = out["location"].replace(upstream, public["origin"])
        return Response(content, answer.status_code, out)

    methods = ["GET", "POST"]
    return Starlette(routes=[Route("/{path:path}", forward, methods=methods)])


def _any_secret(
    headers: dict[str, str], body: bytes, secret: str, real_basic: str
) -> tuple[dict[str, str], bytes]:
    if headers.get("authorization", "").startswith("Basic "):
        headers["authorization"] = real_basic
    form = parse_qsl(body.decode(), keep_blank_values=True)
    if any(k == "client_secret" for k, _ in form):
        form = [(k, secret if k == "client_secret" else v) for k, v in form]
    return headers, urlencode(form).encode()

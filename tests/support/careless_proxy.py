"""Test doubles of careless authorization servers: a reverse proxy in front of the strict
sandbox that breaks one rule. A `Rewrite` changes the request on its way in (or answers it
itself); an `Answer` changes the sandbox's response on its way out. Origins in bodies and
redirects are rewritten to the proxy's, so the probe sees one server."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import parse_qsl, urlencode

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

HOP_HEADERS = {"host", "content-length", "connection", "transfer-encoding", "content-encoding"}


@dataclass
class Outgoing:
    """A request on its way to the sandbox, with its query and form as editable pairs."""

    method: str
    path: str
    query: list[tuple[str, str]]
    headers: dict[str, str]
    form: list[tuple[str, str]] = field(default_factory=list)

    def get(self, name: str) -> str | None:
        return next((v for k, v in [*self.query, *self.form] if k == name), None)

    def set_query(self, name: str, value: str) -> None:
        self.query = [(k, value if k == name else v) for k, v in self.query]

    def set_form(self, name: str, value: str | None) -> None:
        self.form = [(k, v) for k, v in self.form if k != name]
        if value is not None:
            self.form.append((name, value))


@dataclass
class Incoming:
    """The sandbox's answer on its way back (origins already rewritten); headers as pairs,
    since Set-Cookie comes more than once."""

    status: int
    headers: list[tuple[str, str]]
    body: bytes

    def header(self, name: str) -> str | None:
        return next((v for k, v in self.headers if k == name), None)

    def json(self) -> dict[str, object]:
        data = json.loads(self.body)
        assert isinstance(data, dict)
        return data

    def with_json(self, data: dict[str, object]) -> Incoming:
        return Incoming(self.status, self.headers, json.dumps(data).encode())

    def with_location(self, location: str) -> Incoming:
        kept = [(k, v) for k, v in self.headers if k != "location"]
        return Incoming(self.status, [*kept, ("location", location)], self.body)

    def without(self, *names: str) -> Incoming:
        kept = [(k, v) for k, v in self.headers if k not in names]
        return Incoming(self.status, kept, self.body)


def _response(answer: Incoming) -> Response:
    response = Response(answer.body, answer.status)
    response.raw_headers = [
        (k.encode("latin-1"), v.encode("latin-1"))
        for k, v in [*answer.headers, ("content-length", str(len(answer.body)))]
    ]
    return response


Rewrite = Callable[[Outgoing], "Outgoing | Incoming"]
Answer = Callable[[Outgoing, Incoming], Incoming]


def _keep(request: Outgoing) -> Outgoing:
    return request


def _same(request: Outgoing, answer: Incoming) -> Incoming:
    return answer


def careless_proxy(upstream: str, rewrite: Rewrite = _keep, answer: Answer = _same) -> Starlette:
    public = {"origin": ""}  # the proxy's own origin, learned from the first request

    async def forward(request: Request) -> Response:
        public["origin"] = f"{request.url.scheme}://{request.url.netloc}"
        body = (await request.body()).decode()
        outgoing = Outgoing(
            request.method,
            request.url.path,
            parse_qsl(request.url.query, keep_blank_values=True),
            {k: v for k, v in request.headers.items() if k not in HOP_HEADERS},
            parse_qsl(body, keep_blank_values=True),
        )
        changed = rewrite(outgoing)
        if isinstance(changed, Incoming):
            return _response(changed)
        async with httpx.AsyncClient(base_url=upstream) as http:
            sent = await http.request(
                changed.method,
                changed.path,
                params=changed.query,
                headers=changed.headers,
                content=urlencode(changed.form).encode() if changed.form or body else b"",
            )
        out = [
            (k, v.replace(upstream, public["origin"]) if k == "location" else v)
            for k, v in sent.headers.multi_items()
            if k not in HOP_HEADERS
        ]
        content = sent.content.replace(upstream.encode(), public["origin"].encode())
        return _response(answer(changed, Incoming(sent.status_code, out, content)))

    methods = ["GET", "POST"]
    return Starlette(routes=[Route("/{path:path}", forward, methods=methods)])

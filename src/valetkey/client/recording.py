"""Recorded traffic: every HTTP message of a walkthrough, from whom to whom, in order.

Three taps feed one log: the scripted browser's own requests, the requests the app
received (a WSGI middleware), and the requests the app sent on the back channel (httpx
event hooks, or a hook on each requests session Authlib makes).
"""

from __future__ import annotations

import io
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote_plus, urlsplit

import httpx

from valetkey.oauth.vocabulary import AUTHORIZATION_SERVER as AS
from valetkey.oauth.vocabulary import CLIENT
from valetkey.oauth.vocabulary import RESOURCE_SERVER as RS


@dataclass
class Message:
    seq: int
    tap: str  # "browser", "app-in" or "app-out"
    sender: str
    receiver: str
    method: str
    url: str
    body: str
    headers: dict[str, str]
    status: int = 0
    location: str = ""
    answer: str = ""  # a JSON response's body (token responses: what a proof reads)

    @property
    def path(self) -> str:
        return urlsplit(self.url).path

    def carries(self, secret: str) -> bool:
        text = " ".join(
            [
                self.url,
                unquote_plus(self.url),
                self.body,
                unquote_plus(self.body),
                *self.headers.values(),
            ]
        )
        return secret in text


@dataclass
class Traffic:
    issuer: str
    app_origin: str = ""
    # (URL prefix, participant), tried in order before the defaults (the MCP walkthrough's)
    places: tuple[tuple[str, str], ...] = ()
    messages: list[Message] = field(default_factory=list)
    listeners: list[Callable[[Message], None]] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def who(self, url: str) -> str:
        for prefix, participant in self.places:
            if url.startswith(prefix):
                return participant
        if self.app_origin and url.startswith(self.app_origin):
            return CLIENT
        if url.startswith(self.issuer + "/api/"):
            return RS
        if url.startswith(self.issuer):
            return AS
        return "elsewhere"

    def add(
        self,
        tap: str,
        sender: str,
        method: str,
        url: str,
        body: str,
        headers: dict[str, str],
        status: int = 0,
        location: str = "",
    ) -> Message:
        with self._lock:
            message = Message(
                len(self.messages),
                tap,
                sender,
                self.who(url),
                method,
                url,
                body,
                headers,
                status,
                location,
            )
            self.messages.append(message)
        for listener in self.listeners:
            listener(message)
        return message

    def httpx_hooks(self, sender: str, tap: str) -> dict[str, list[Callable[..., object]]]:
        """Record at request time (so the order is the order things happened), and fill in
        the status when the response arrives."""
        pending: dict[int, Message] = {}

        def on_request(request: httpx.Request) -> None:
            pending[id(request)] = self.add(
                tap,
                sender,
                request.method,
                str(request.url),
                request.content.decode("utf-8", "replace"),
                dict(request.headers),
            )

        def on_response(response: httpx.Response) -> None:
            message = pending.pop(id(response.request), None)
            if message is not None:
                message.status = response.status_code
                message.location = response.headers.get("location", "")
                if _is_json(response):
                    message.answer = response.read().decode("utf-8", "replace")

        return {"request": [on_request], "response": [on_response]}

    def async_httpx_hooks(self, sender: str, tap: str) -> dict[str, list[Callable[..., object]]]:
        """The same, for an httpx.AsyncClient (whose hooks are coroutines)."""
        hooks = self.httpx_hooks(sender, tap)
        (record,), (note,) = hooks["request"], hooks["response"]

        async def on_request(request: httpx.Request) -> None:
            record(request)

        async def on_response(response: httpx.Response) -> None:
            if _is_json(response):
                await response.aread()
            note(response)

        return {"request": [on_request], "response": [on_response]}

    def requests_session_hook(self, session: Any) -> None:
        """For Authlib: record what each requests session it creates sends."""

        def record(response: Any, *args: object, **kwargs: object) -> None:
            request = response.request
            body = request.body or ""
            text = body.decode("utf-8", "replace") if isinstance(body, bytes) else str(body)
            self.add(
                "app-out",
                CLIENT,
                request.method,
                request.url,
                text,
                dict(request.headers),
                response.status_code,
                response.headers.get("location", ""),
            )

        session.hooks["response"].append(record)

    def wsgi(
        self,
        app: Callable[..., Iterable[bytes]],
        tap: str = "app-in",
        sender: Callable[[str, dict[str, str]], str] = lambda _path, _headers: "unknown",
        origin: str = "",
    ) -> Callable[..., Iterable[bytes]]:
        """A middleware recording each request the app (at `origin`, by default the client
        app's) receives, body included; `sender` names who sent it from its path and
        headers (a server sees no more than that)."""
        base = origin or self.app_origin

        def middleware(
            environ: dict[str, Any], start_response: Callable[..., Any]
        ) -> Iterable[bytes]:
            length = int(environ.get("CONTENT_LENGTH") or 0)
            body = environ["wsgi.input"].read(length) if length else b""
            environ["wsgi.input"] = io.BytesIO(body)
            query = environ.get("QUERY_STRING", "")
            url = base + environ.get("PATH_INFO", "") + (f"?{query}" if query else "")
            headers = {k[5:].lower(): str(v) for k, v in environ.items() if k.startswith("HTTP_")}
            self.add(
                tap,
                sender(environ.get("PATH_INFO", ""), headers),
                environ["REQUEST_METHOD"],
                url,
                body.decode("utf-8", "replace"),
                headers,
            )
            return app(environ, start_response)

        return middleware


def _is_json(response: httpx.Response) -> bool:
    return bool(response.headers.get("content-type", "").startswith("application/json"))

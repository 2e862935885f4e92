"""Where `valetkey probe server` may send requests, for how long, and how much it reads.

Every request goes through `ConfinedTransport`: it stays on the target's origin (and on the
origins its metadata names, allowed only after a warning), never carries the client secret
to an origin other than the issuer's, stops when the run's deadline has passed, and reads at
most `MAX_BODY` bytes of any answer. A refused request is an `httpx` transport error, so
the check that made it is n/a with the reason, never a traceback."""

from __future__ import annotations

import time
from urllib.parse import parse_qsl, urlsplit

import httpx

MAX_BODY = 2 * 1024 * 1024  # bytes of one answer; a page or a token response is far smaller
RUN_SECONDS = 180.0  # the whole run
TIMEOUT = httpx.Timeout(10.0, read=3.0)  # a server dripping a byte every few s is dropped


class Refused(httpx.TransportError):
    """The probe would not send this request, or not read this answer."""


def origin_of(url: str) -> str:
    parts = urlsplit(url)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    return f"{parts.scheme}://{(parts.hostname or '').lower()}:{port}"


class ConfinedTransport(httpx.BaseTransport):
    def __init__(self, issuer: str, seconds: float = RUN_SECONDS) -> None:
        self.inner = httpx.HTTPTransport()
        self.issuer_origin = origin_of(issuer)
        self.allowed = {self.issuer_origin}
        self.deadline = time.monotonic() + seconds

    def allow(self, url: str) -> bool:
        """Allow the origin of a URL the metadata names; True when it was not allowed yet."""
        origin = origin_of(url)
        new = origin not in self.allowed
        self.allowed.add(origin)
        return new

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        origin = origin_of(str(request.url))
        if time.monotonic() > self.deadline:
            raise Refused("the run's deadline passed", request=request)
        if origin not in self.allowed:
            raise Refused(f"{origin} is not the target's origin; not requested", request=request)
        if origin != self.issuer_origin and _carries_secret(request):
            raise Refused(f"the client secret is never sent to {origin}", request=request)
        response = self.inner.handle_request(request)
        return self._capped(request, response)

    def _capped(self, request: httpx.Request, response: httpx.Response) -> httpx.Response:
        body = bytearray()
        try:
            for chunk in response.stream:  # type: ignore[union-attr]
                body += chunk
                if len(body) > MAX_BODY:
                    raise Refused(f"an answer over {MAX_BODY} bytes; not read", request=request)
                if time.monotonic() > self.deadline:
                    raise Refused("the run's deadline passed", request=request)
        finally:
            response.close()
        return httpx.Response(
            response.status_code, headers=response.headers.multi_items(), content=bytes(body)
        )

    def close(self) -> None:
        self.inner.close()


def _carries_secret(request: httpx.Request) -> bool:
    if request.headers.get("authorization", "").lower().startswith("basic "):
        return True
    if "client_secret" in dict(request.url.params):
        return True
    try:
        body = request.content.decode("utf-8", "replace")
    except httpx.RequestNotRead:
        return False
    return any(name == "client_secret" for name, _ in parse_qsl(body))

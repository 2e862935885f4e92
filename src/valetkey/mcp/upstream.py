"""The MCP server's own access to the sandbox's photos API.

It never forwards the client's token (MCP: "token passthrough" is forbidden; the token's
audience is this server, not the API). It gets its own token with the client-credentials
grant (RFC 6749 §4.4) and keeps it until shortly before it expires.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import httpx


class UpstreamError(Exception):
    """The sandbox's API could not be used; the message says why (no secret in it)."""


@dataclass(frozen=True)
class Credentials:
    client_id: str
    client_secret: str


@dataclass
class Upstream:
    token_endpoint: str
    api: str  # the photos API, e.g. http://127.0.0.1:8400/api/photos
    credentials: Credentials | None
    _token: str = ""
    _expires: float = 0.0

    async def photos(self, http: httpx.AsyncClient) -> list[dict[str, Any]]:
        token = await self._own_token(http)
        answer = await http.get(self.api, headers={"authorization": f"Bearer {token}"}, timeout=5)
        if answer.status_code != 200:
            raise UpstreamError(f"the photos API answered {answer.status_code}")
        photos = answer.json().get("photos", [])
        return [p for p in photos if isinstance(p, dict)]

    async def _own_token(self, http: httpx.AsyncClient) -> str:
        if self.credentials is None:
            raise UpstreamError("no client credentials for the photos API are configured")
        if self._token and time.monotonic() < self._expires:
            return self._token
        answer = await http.post(
            self.token_endpoint,
            data={"grant_type": "client_credentials", "scope": "photos.read"},
            auth=(self.credentials.client_id, self.credentials.client_secret),
            timeout=5,
        )
        if answer.status_code != 200:
            raise UpstreamError(
                f"the token endpoint refused our credentials ({answer.status_code})"
            )
        body = answer.json()
        self._token = str(body["access_token"])
        self._expires = time.monotonic() + float(body.get("expires_in", 60)) - 10
        return self._token

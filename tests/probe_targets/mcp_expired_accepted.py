"""Flaw: `exp` is never looked at; an expired token still works (MS-05)."""

from __future__ import annotations

import time

import httpx

from tests.probe_targets.mcp_kit import guarded, mcpserver_app
from valetkey.mcp.guard import App
from valetkey.mcp.server import McpSettings, verifier_for
from valetkey.mcp.verification import Verified, Verifier, _verified


class NoExpiry(Verifier):
    async def verify(self, token: str, http: httpx.AsyncClient) -> Verified:
        claims = await self._jwt_claims(token, http)
        claims["exp"] = time.time() + 60  # FLAW: as if it never expired
        return _verified(claims, self.issuer, self.resource)


def build(url: str, issuer: str) -> App:
    base = verifier_for(McpSettings(url, issuer))
    verifier = NoExpiry(base.issuer, base.resource, base.jwks_uri)
    return guarded(mcpserver_app(url), url, issuer, verifier=verifier)

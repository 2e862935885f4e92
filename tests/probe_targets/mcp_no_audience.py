"""Flaw: the audience is never checked; any token the sandbox signed will do (MS-03)."""

from __future__ import annotations

from typing import Any

import httpx

from tests.probe_targets.mcp_kit import guarded, mcpserver_app
from valetkey.mcp.guard import App
from valetkey.mcp.server import McpSettings, verifier_for
from valetkey.mcp.verification import Verified, Verifier, _verified


class AnyAudience(Verifier):
    async def verify(self, token: str, http: httpx.AsyncClient) -> Verified:
        claims: dict[str, Any] = await self._jwt_claims(token, http)
        claims["aud"] = self.resource  # FLAW: whatever the token was for
        return _verified(claims, self.issuer, self.resource)


def build(url: str, issuer: str) -> App:
    base = verifier_for(McpSettings(url, issuer))
    verifier = AnyAudience(base.issuer, base.resource, base.jwks_uri)
    return guarded(mcpserver_app(url), url, issuer, verifier=verifier)

"""Flaw: a token with `alg=none` is read without a signature (MS-04)."""

from __future__ import annotations

from typing import Any

import httpx

from tests.probe_targets.mcp_kit import guarded, lowlevel_app, mounted
from valetkey.mcp.guard import App
from valetkey.mcp.server import McpSettings, verifier_for
from valetkey.mcp.verification import Verifier
from valetkey.oauth.jose import unverified_claims, unverified_header


class TrustsNone(Verifier):
    async def _jwt_claims(self, token: str, http: httpx.AsyncClient) -> dict[str, Any]:
        if unverified_header(token).get("alg") == "none":
            return unverified_claims(token)  # FLAW: RFC 8725 §3.1
        return await super()._jwt_claims(token, http)


def build(url: str, issuer: str) -> App:
    base = verifier_for(McpSettings(url, issuer))
    verifier = TrustsNone(base.issuer, base.resource, base.jwks_uri)
    return guarded(mounted(lowlevel_app(url)), url, issuer, verifier=verifier)

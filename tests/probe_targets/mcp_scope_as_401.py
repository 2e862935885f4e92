"""Flaw: too little scope is answered 401 invalid_token, not 403 step-up (MS-06)."""

from __future__ import annotations

from typing import Any

from tests.probe_targets.mcp_kit import guarded, lowlevel_app
from valetkey.mcp import challenges
from valetkey.mcp.challenges import Refusal
from valetkey.mcp.guard import App, Guard


class ScopeAs401(Guard):
    async def refusal(self, scope: Any, body: bytes) -> Refusal | None:
        found = await super().refusal(scope, body)
        if found is not None and found.error == "insufficient_scope":
            return challenges.invalid_token("not allowed")  # FLAW: a bare 401
        return found


def build(url: str, issuer: str) -> App:
    return guarded(lowlevel_app(url), url, issuer, guard=ScopeAs401)

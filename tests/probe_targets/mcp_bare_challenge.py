"""Flaw: the 401 challenge has no resource_metadata, so clients cannot discover (MS-02)."""

from __future__ import annotations

from tests.probe_targets.mcp_kit import guarded, mcpserver_app, mounted
from valetkey.mcp.challenges import Refusal
from valetkey.mcp.guard import App, Guard


class BareChallenge(Guard):
    def challenge(self, refusal: Refusal) -> str:
        parts = super().challenge(refusal).removeprefix("Bearer ").split(", ")
        kept = [p for p in parts if not p.startswith("resource_metadata=")]  # FLAW: RFC 9728 §5.1
        return "Bearer " + ", ".join(kept)


def build(url: str, issuer: str) -> App:
    return guarded(mounted(mcpserver_app(url)), url, issuer, guard=BareChallenge)

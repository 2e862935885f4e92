"""Flaw: the metadata's `resource` is the origin, not the MCP endpoint's URL (MS-01)."""

from __future__ import annotations

from typing import Any

from tests.probe_targets.mcp_kit import guarded, lowlevel_app
from valetkey.mcp.guard import App, Guard
from valetkey.mcp.metadata import origin_of


class OriginAsResource(Guard):
    def document(self) -> dict[str, Any]:
        return {**super().document(), "resource": origin_of(self.verifier.resource)}  # FLAW


def build(url: str, issuer: str) -> App:
    return guarded(lowlevel_app(url), url, issuer, guard=OriginAsResource)

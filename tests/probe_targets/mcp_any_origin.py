"""Flaw: the SDK's Origin check is off; a page on any site may call it (MS-09)."""

from __future__ import annotations

from tests.probe_targets.mcp_kit import guarded, mcpserver_app
from valetkey.mcp.guard import App


def build(url: str, issuer: str) -> App:
    return guarded(mcpserver_app(url, check_origin=False), url, issuer)  # FLAW

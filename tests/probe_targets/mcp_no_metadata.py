"""Flaw: no protected-resource metadata; the challenge points at a 404 (MS-01, MS-02)."""

from __future__ import annotations

from typing import Any

from tests.probe_targets.mcp_kit import guarded, lowlevel_app
from valetkey.mcp.guard import App, Guard


class NoMetadata(Guard):
    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http" and scope["path"].startswith("/.well-known/"):
            scope = {**scope, "path": "/nothing-here"}  # FLAW: the document is never served
        await super().__call__(scope, receive, send)


def build(url: str, issuer: str) -> App:
    return guarded(lowlevel_app(url), url, issuer, guard=NoMetadata)

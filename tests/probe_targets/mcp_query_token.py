"""Flaw: a token in the query string is accepted too (`?access_token=`; MS-07)."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs

from tests.probe_targets.mcp_kit import guarded, mcpserver_app, mounted
from valetkey.mcp.guard import App, Guard


class QueryToo(Guard):
    def bearer(self, scope: Any) -> str | None:
        query = parse_qs(scope.get("query_string", b"").decode())
        return super().bearer(scope) or (query.get("access_token") or [None])[0]  # FLAW


def build(url: str, issuer: str) -> App:
    return guarded(mounted(mcpserver_app(url)), url, issuer, guard=QueryToo)

"""The `WWW-Authenticate: Bearer` challenges of an MCP server (RFC 6750 §3, RFC 9728 §5.1).

A request without a token gets 401 with `resource_metadata` and the minimum `scope`; a bad
token gets 401 `invalid_token`; a token without the scope a tool needs gets 403
`insufficient_scope` with the scope to ask for (step-up, MCP 2025-11-25 "Scope Challenge").
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from valetkey.oauth.bearer_challenge import quoted_param


@dataclass(frozen=True)
class Refusal:
    status: int
    error: str  # "" for a request that carried no token (RFC 6750 §3.1)
    description: str
    scope: str

    def challenge(self, metadata_url: str) -> str:
        parts = [f'resource_metadata="{quoted_param(metadata_url)}"']
        if self.error:
            parts.append(f'error="{self.error}"')
            parts.append(f'error_description="{quoted_param(self.description)}"')
        if self.scope:
            parts.append(f'scope="{quoted_param(self.scope)}"')
        return "Bearer " + ", ".join(parts)

    def body(self) -> bytes:
        if not self.error:
            return b'{"error":"unauthorized","error_description":"send a bearer token"}'
        return json.dumps({"error": self.error, "error_description": self.description}).encode()


def no_token(scope: str) -> Refusal:
    return Refusal(401, "", "no bearer token in the Authorization header", scope)


def invalid_token(description: str) -> Refusal:
    return Refusal(401, "invalid_token", description, "")


def insufficient_scope(needed: str) -> Refusal:
    return Refusal(403, "insufficient_scope", f"this call needs the scope {needed}", needed)

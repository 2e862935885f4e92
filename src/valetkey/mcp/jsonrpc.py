"""MCP messages over streamable HTTP, as a client sends and reads them: JSON-RPC 2.0 in a
POST whose `Accept` names both JSON and SSE; the answer is JSON or an SSE stream of
`data:` lines (MCP transports, "Streamable HTTP")."""

from __future__ import annotations

import json
from typing import Any

import httpx

ACCEPT = "application/json, text/event-stream"
PROTOCOL_VERSION = "2025-11-25"


def rpc_body(method: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"jsonrpc": "2.0", "id": 1, "method": method, "params": params or {}}


def initialize_params(name: str = "valetkey-probe") -> dict[str, Any]:
    return {
        "protocolVersion": PROTOCOL_VERSION,
        "capabilities": {},
        "clientInfo": {"name": name, "version": "1"},
    }


def rpc_result(response: httpx.Response) -> dict[str, Any] | None:
    """The JSON-RPC `result` of an answer (JSON or SSE `data:` lines), None when there is
    none (an HTTP error, a JSON-RPC error, or not JSON-RPC at all)."""
    if response.status_code != 200:
        return None
    texts = [response.text]
    if response.headers.get("content-type", "").startswith("text/event-stream"):
        lines = response.text.splitlines()
        texts = [line[5:].strip() for line in lines if line.startswith("data:")]
    for text in texts:
        try:
            message = json.loads(text)
        except ValueError:
            continue
        result = message.get("result") if isinstance(message, dict) else None
        if isinstance(result, dict):
            return result
    return None


def accepted(response: httpx.Response) -> bool:
    return rpc_result(response) is not None

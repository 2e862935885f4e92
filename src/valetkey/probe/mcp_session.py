"""What the MCP server checks share: the server's URL, a sandbox in probe mode that mints
crafted tokens (`/probe/mint`) and shows which calls reached it (`/probe/log`), and MCP
requests over streamable HTTP (JSON-RPC in a POST; the answer JSON or an SSE stream).

The oracle is behaviour: a request is *accepted* when the server answers it with a JSON-RPC
result, whatever the transport wrapping.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import httpx

from valetkey.mcp.jsonrpc import ACCEPT, PROTOCOL_VERSION, initialize_params, rpc_body, rpc_result
from valetkey.useragent.agent import verified_tls

KID_OF_SIGNING_KEY = "<key's own>"  # leave `kid` out of the mint request


class McpProbeError(RuntimeError):
    """A step every check needs did not work (the sandbox is not in probe mode, say)."""


@dataclass(frozen=True)
class McpTarget:
    url: str  # the MCP endpoint, its canonical URL
    sandbox: str  # the issuer the server trusts, in probe mode
    sandbox_token: str  # the sandbox's admin token, for /probe


@dataclass
class McpProbeSession:
    target: McpTarget
    http: httpx.Client = field(init=False)
    control: httpx.Client = field(init=False)
    published_kid: str = ""
    tools: list[dict[str, Any]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.http = httpx.Client(timeout=10.0, verify=verified_tls())
        headers = {"authorization": f"Bearer {self.target.sandbox_token}"}
        self.control = httpx.Client(
            base_url=self.target.sandbox, timeout=10.0, headers=headers, verify=verified_tls()
        )

    def open(self) -> None:
        answer = self.control.get("/probe/log", params={"since": 1 << 30})
        if answer.status_code == 401:
            raise McpProbeError(
                "the sandbox refused the probe API: pass its admin token with --sandbox-token"
            )
        if answer.status_code != 200:
            raise McpProbeError("the sandbox is not in probe mode (valetkey serve --probe-mode)")
        keys = self.control.get("/jwks.json").json().get("keys", [])
        self.published_kid = next((k["kid"] for k in keys if k.get("alg") == "ES256"), "")
        listed = rpc_result(self.call("tools/list", self.mint()))
        self.tools = [t for t in (listed or {}).get("tools", []) if isinstance(t, dict)]

    def close(self) -> None:
        self.http.close()
        self.control.close()

    def claims(self, **changed: Any) -> dict[str, Any]:
        """Claims of a token the server must accept; `changed` makes it one it must not."""
        now = int(time.time())
        base = {
            "iss": self.target.sandbox,
            "aud": self.target.url,
            "sub": "valetkey-probe",
            "client_id": "valetkey-probe",
            "scope": "photos.read photos.print",
            "iat": now,
            "exp": now + 300,
        }
        merged = {**base, **changed}
        return {k: v for k, v in merged.items() if v is not None}

    def mint(
        self,
        claims: dict[str, Any] | None = None,
        signing: str = "sandbox",
        kid: str | None = KID_OF_SIGNING_KEY,
        revoked: bool = False,
    ) -> str:
        body: dict[str, Any] = {"claims": claims or self.claims(), "signing": signing}
        if kid != KID_OF_SIGNING_KEY:
            body["kid"] = kid
        if revoked:
            body["revoked"] = True
        answer = self.control.post("/probe/mint", json=body)
        if answer.status_code != 200:
            raise McpProbeError(f"the sandbox refused to mint a token: {answer.text[:200]}")
        return str(answer.json()["access_token"])

    def call(
        self,
        method: str,
        token: str | None,
        params: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> httpx.Response:
        """One MCP request, the token (if any) in the Authorization header."""
        sent = {"accept": ACCEPT, "mcp-protocol-version": PROTOCOL_VERSION, **(headers or {})}
        if token is not None:
            sent["authorization"] = f"Bearer {token}"
        if method == "initialize":
            params = params or initialize_params()
        return self.http.post(self.target.url, json=rpc_body(method, params), headers=sent)

    def tool_call(self, tool: dict[str, Any], token: str | None) -> httpx.Response:
        return self.call("tools/call", token, {"name": tool["name"], "arguments": arguments(tool)})

    def log_since(self, since: int) -> list[dict[str, Any]]:
        events = self.control.get("/probe/log", params={"since": since}).json()["events"]
        return [e for e in events if isinstance(e, dict)]

    def log_position(self) -> int:
        return int(self.control.get("/probe/log", params={"since": 1 << 30}).json()["next"])


def arguments(tool: dict[str, Any]) -> dict[str, Any]:
    """Plausible arguments from a tool's input schema: a value for every required property."""
    schema = tool.get("inputSchema") or {}
    properties = schema.get("properties") or {}
    filler = {"integer": 1, "number": 1, "boolean": False, "array": [], "object": {}}
    return {
        name: filler.get(str((properties.get(name) or {}).get("type")), "probe")
        for name in schema.get("required") or []
    }

"""Where an MCP client's tokens went, from the recorded traffic alone.

The two MCP rules it proves (MCP authorization, "Token Audience Binding and Validation" and
"Token Passthrough"): every access token the client got names the MCP server as its audience
(RFC 8707), and no token the client got was ever sent anywhere but to the MCP server (access
tokens, in the Authorization header) or back to the token endpoint (refresh tokens). In
particular, none of the MCP server's own requests carried one.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass
from typing import Any

from valetkey.client.recording import Message
from valetkey.oauth.jose import MalformedJwt, unverified_claims
from valetkey.oauth.vocabulary import AUTHORIZATION_SERVER as AS
from valetkey.oauth.vocabulary import MCP_SERVER

CLIENT_TAP = "client-out"
SERVER_TAP = "mcp-out"


@dataclass(frozen=True)
class Issued:
    access: list[str]
    refresh: list[str]


def issued(messages: list[Message]) -> Issued:
    """The tokens the MCP client got back from the token endpoint."""
    access: list[str] = []
    refresh: list[str] = []
    for m in messages:
        if m.tap != CLIENT_TAP or m.receiver != AS or m.status != 200 or not m.answer:
            continue
        body = _object(m.answer)
        if isinstance(body.get("access_token"), str):
            access.append(body["access_token"])
        if isinstance(body.get("refresh_token"), str):
            refresh.append(body["refresh_token"])
    return Issued(access, refresh)


def _object(text: str) -> dict[str, Any]:
    try:
        value = json.loads(text)
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def _audience_problems(access: list[str], resource: str) -> list[str]:
    problems = []
    for index, token in enumerate(access, 1):
        try:
            aud = unverified_claims(token).get("aud")
        except MalformedJwt:
            problems.append(f"access token {index} is opaque: its audience is not in the traffic")
            continue
        if aud != resource and not (isinstance(aud, list) and aud == [resource]):
            problems.append(f"access token {index} has aud {aud!r}, not {resource}")
    return problems


def _in_header_to_server(m: Message, token: str) -> bool:
    return (
        m.tap == CLIENT_TAP
        and m.receiver == MCP_SERVER
        and m.headers.get("authorization") == f"Bearer {token}"
        and token not in m.url
        and token not in m.body
    )


def _to_token_endpoint(m: Message) -> bool:
    return m.tap == CLIENT_TAP and m.receiver == AS and m.path.endswith("/token")


def token_confinement(messages: list[Message], resource: str) -> tuple[bool, str]:
    """(proven, the line that says so, or what went wrong)."""
    tokens = issued(messages)
    if not tokens.access:
        return False, "FAILED: the MCP client got no access token, so there is nothing to prove"
    problems = _audience_problems(tokens.access, resource)
    sends = 0
    for token in tokens.access:
        for m in (m for m in messages if m.carries(token)):
            sends += 1
            if not _in_header_to_server(m, token):
                problems.append(f"an access token went to {m.method} {m.url.split('?')[0]}")
    for token in tokens.refresh:
        for m in (m for m in messages if m.carries(token)):
            if not _to_token_endpoint(m):
                problems.append(f"a refresh token went to {m.method} {m.url.split('?')[0]}")
    own = [m for m in messages if m.tap == SERVER_TAP]
    where = Counter(f"{m.method} {m.path}" for m in own)
    if problems:
        return False, "FAILED: " + "; ".join(dict.fromkeys(problems))
    own_text = ", ".join(f"{n}x {request}" for request, n in sorted(where.items()))
    return True, (
        f"the MCP client got {len(tokens.access)} access tokens, each with aud = {resource} "
        f"(RFC 8707), and sent them {sends} times, only to the MCP server, in the "
        f"Authorization header; its {len(tokens.refresh)} refresh tokens went only to the "
        f"token endpoint; the MCP server's own {len(own)} requests ({own_text or 'none'}) "
        f"carried none of them: no passthrough"
    )

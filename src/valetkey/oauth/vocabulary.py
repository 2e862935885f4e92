"""The words of a flow: who takes part, over which channel, and the steps of the
authorization-code flow (RFC 6749 §1.2, §4.1). The sandbox records flows in these words, the
reference client's recorder taps traffic in them, and the flow inspector draws them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Channel = Literal["front", "back"]  # through the browser, or server to server


@dataclass(frozen=True)
class Participant:
    id: str
    name: str
    note: str


BROWSER = "browser"
CLIENT = "client"
AUTHORIZATION_SERVER = "authorization_server"
RESOURCE_SERVER = "resource_server"

PARTICIPANTS: tuple[Participant, ...] = (
    Participant(BROWSER, "Resource owner", "(browser)"),
    Participant(CLIENT, "Client", "(the app)"),
    Participant(AUTHORIZATION_SERVER, "Authorization server", "(login, consent, tokens)"),
    Participant(RESOURCE_SERVER, "Resource server", "(the API)"),
)
PARTICIPANT_NAMES = {p.id: p.name for p in PARTICIPANTS}

# MCP authorization: the MCP client is the OAuth client, the MCP server a resource server
# that calls an API of its own with its own token (never the client's)
MCP_CLIENT = "mcp_client"
MCP_SERVER = "mcp_server"
UPSTREAM_API = "upstream_api"
MCP_PARTICIPANTS: tuple[Participant, ...] = (
    Participant(BROWSER, "User", "(browser)"),
    Participant(MCP_CLIENT, "MCP client", "(OAuth client)"),
    Participant(MCP_SERVER, "MCP server", "(resource server)"),
    Participant(AUTHORIZATION_SERVER, "Authorization server", "(valetkey sandbox)"),
    Participant(UPSTREAM_API, "Photos API", "(the MCP server's upstream)"),
)


@dataclass(frozen=True)
class Step:
    """One kind of message; `number` is its place among the flow's five steps."""

    id: str
    number: int
    label: str


AUTHORIZATION_REQUEST = "authorization_request"
LOGIN = "login"
CONSENT = "consent"
AUTHORIZATION_RESPONSE = "authorization_response"
TOKEN_REQUEST = "token_request"  # noqa: S105 (a step name)
TOKEN_RESPONSE = "token_response"  # noqa: S105 (a step name)
API_CALL = "api_call"

STEPS: tuple[Step, ...] = (
    Step(AUTHORIZATION_REQUEST, 1, "authorization request"),
    Step(LOGIN, 2, "login: username and password"),
    Step(CONSENT, 2, "consent"),
    Step(AUTHORIZATION_RESPONSE, 3, "redirect back with code, state, iss"),
    Step(TOKEN_REQUEST, 4, "token request (code, verifier, client auth)"),
    Step(TOKEN_RESPONSE, 4, "tokens"),
    Step(API_CALL, 5, "API call with the access token"),
)
STEP_BY_ID = {step.id: step for step in STEPS}

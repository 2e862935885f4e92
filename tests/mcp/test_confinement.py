"""The token-confinement proof, on traffic where a token went where it must not."""

from __future__ import annotations

import base64
import json

from valetkey.client.recording import Message
from valetkey.mcp.confinement import token_confinement
from valetkey.oauth.vocabulary import AUTHORIZATION_SERVER as AS
from valetkey.oauth.vocabulary import MCP_CLIENT, MCP_SERVER, UPSTREAM_API

MCP = "http://127.0.0.1:9000/mcp"
ISSUER = "http://127.0.0.1:9001"


def _jwt(claims: dict[str, object]) -> str:
    def part(data: dict[str, object]) -> str:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()

    return f"{part({'alg': 'ES256', 'typ': 'at+jwt'})}.{part(claims)}.c2ln"


ACCESS = _jwt({"aud": MCP, "iss": ISSUER, "scope": "photos.read"})


def _message(seq: int, tap: str, sender: str, receiver: str, url: str, **kw: object) -> Message:
    fields: dict[str, object] = {"method": "POST", "body": "", "headers": {}, **kw}
    return Message(seq, tap, sender, receiver, url=url, **fields)  # type: ignore[arg-type]


def _token_response(access: str = ACCESS) -> Message:
    answer = json.dumps({"access_token": access, "refresh_token": "rt-1", "token_type": "Bearer"})
    return _message(0, "client-out", MCP_CLIENT, AS, ISSUER + "/token", status=200, answer=answer)


def _call(seq: int, access: str = ACCESS) -> Message:
    headers = {"authorization": f"Bearer {access}"}
    return _message(seq, "client-out", MCP_CLIENT, MCP_SERVER, MCP, headers=headers, status=200)


def test_a_clean_flow_is_proven() -> None:
    proven, line = token_confinement([_token_response(), _call(1), _call(2)], MCP)
    assert proven
    assert line.startswith(
        f"the MCP client got 1 access tokens, each with aud = {MCP} (RFC 8707), and sent them "
        "2 times, only to the MCP server"
    )
    assert line.endswith(
        "the MCP server's own 0 requests (none) carried none of them: no passthrough"
    )


def test_passthrough_to_the_upstream_api_is_caught() -> None:
    passed_on = _message(
        2,
        "mcp-out",
        MCP_SERVER,
        UPSTREAM_API,
        ISSUER + "/api/photos",
        method="GET",
        headers={"authorization": f"Bearer {ACCESS}"},
    )
    proven, line = token_confinement([_token_response(), _call(1), passed_on], MCP)
    assert not proven
    assert line == f"FAILED: an access token went to GET {ISSUER}/api/photos"


def test_another_audience_is_caught() -> None:
    other = _jwt({"aud": "http://127.0.0.1:9002/mcp"})
    proven, line = token_confinement([_token_response(other), _call(1, other)], MCP)
    assert not proven
    assert line == f"FAILED: access token 1 has aud 'http://127.0.0.1:9002/mcp', not {MCP}"


def test_a_token_in_the_query_is_caught_even_at_the_server() -> None:
    in_query = _message(1, "client-out", MCP_CLIENT, MCP_SERVER, f"{MCP}?access_token={ACCESS}")
    proven, line = token_confinement([_token_response(), in_query], MCP)
    assert not proven
    assert line == f"FAILED: an access token went to POST {MCP}"


def test_a_refresh_token_sent_to_the_server_is_caught() -> None:
    leaked = _message(1, "client-out", MCP_CLIENT, MCP_SERVER, MCP, body="refresh_token=rt-1")
    proven, line = token_confinement([_token_response(), _call(2), leaked], MCP)
    assert not proven
    assert line == f"FAILED: a refresh token went to POST {MCP}"


def test_opaque_tokens_cannot_be_proven_from_traffic() -> None:
    proven, line = token_confinement(
        [_token_response("opaque-value"), _call(1, "opaque-value")], MCP
    )
    assert not proven
    assert line == "FAILED: access token 1 is opaque: its audience is not in the traffic"


def test_no_token_no_proof() -> None:
    assert token_confinement([], MCP) == (
        False,
        "FAILED: the MCP client got no access token, so there is nothing to prove",
    )

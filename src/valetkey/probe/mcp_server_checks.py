"""The MS checks: what a protected MCP server must refuse, tried with crafted tokens.

Each check is a function of the session, registered under its catalogue id, returning one
result; every variant a careless server could miss is tried, and the first one that gets
through is the failure, with the request and the answer that prove it.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from typing import Any

import httpx

from valetkey import catalogue
from valetkey.mcp.jsonrpc import accepted, rpc_body
from valetkey.mcp.metadata import resource_metadata_urls
from valetkey.oauth.bearer_challenge import challenge_params
from valetkey.oauth.redaction import fingerprint
from valetkey.oauth.server_metadata import metadata_urls
from valetkey.probe.mcp_session import McpProbeSession
from valetkey.probe.report import Result, failed, not_applicable, passed

Check = Callable[[McpProbeSession], Result]
MCP_SERVER_CHECKS: list[tuple[str, Check]] = []
OTHER_AUDIENCE = "https://other-resource.example/mcp"


def mcp_check(check_id: str) -> Callable[[Check], Check]:
    """Register a check under its catalogue id; an id the catalogue lacks fails at import."""

    def register(func: Check) -> Check:
        catalogue.require(check_id, catalogue.Family.MS, f"probe mcp-server check {func.__name__}")
        MCP_SERVER_CHECKS.append((check_id, func))
        return func

    return register


def _json(response: httpx.Response) -> dict[str, Any] | None:
    try:
        data = response.json()
    except ValueError:
        return None
    return data if isinstance(data, dict) else None


def _as_metadata_served(http: httpx.Client, issuer: str) -> bool:
    """Does the issuer serve its metadata at one of the URLs an MCP client tries?"""
    for url in metadata_urls(issuer):
        answer = http.get(url)
        if answer.status_code == 200 and (_json(answer) or {}).get("issuer") == issuer:
            return True
    return False


@mcp_check("MS-01")
def resource_metadata(s: McpProbeSession) -> Result:
    """PRM at the path-inserted (or root) URI, `resource` exact, authorization servers live."""
    served = [(url, s.http.get(url)) for url in resource_metadata_urls(s.target.url)]
    found = [(url, r, _json(r)) for url, r in served if r.status_code == 200 and _json(r)]
    if not found:
        return failed(
            "MS-01",
            "no protected-resource metadata at either well-known URI",
            *(r for _u, r in served),
        )
    for url, response, doc in found:
        assert doc is not None
        if doc.get("resource") != s.target.url:
            return failed(
                "MS-01",
                f"{url} names resource {doc.get('resource')!r}, not {s.target.url}",
                response,
            )
        servers = doc.get("authorization_servers")
        if not isinstance(servers, list) or not servers:
            return failed("MS-01", f"{url} lists no authorization_servers", response)
        dead = [a for a in servers if not (isinstance(a, str) and _as_metadata_served(s.http, a))]
        if dead:
            return failed("MS-01", f"{dead[0]!r} serves no authorization-server metadata", response)
    return passed("MS-01", f"served at {', '.join(u for u, _r, _d in found)}")


def _challenge_params(header: str) -> dict[str, str]:
    return challenge_params(header) or {}


@mcp_check("MS-02")
def challenge_points_at_metadata(s: McpProbeSession) -> Result:
    """No token: 401, `WWW-Authenticate: Bearer` with a resolvable `resource_metadata`."""
    answer = s.call("initialize", None)
    header = answer.headers.get("www-authenticate", "")
    if answer.status_code != 401 or not header.lower().startswith("bearer"):
        return failed(
            "MS-02", "a request without a token did not get 401 with a Bearer challenge", answer
        )
    pointer = _challenge_params(header).get("resource_metadata")
    if not pointer:
        return failed("MS-02", "the 401 challenge has no resource_metadata (RFC 9728 §5.1)", answer)
    document = s.http.get(pointer)
    if document.status_code != 200 or _json(document) is None:
        return failed("MS-02", "resource_metadata points at no metadata document", document)
    return passed("MS-02", f"401 names {pointer}")


def _refused_all(
    check_id: str, s: McpProbeSession, variants: list[tuple[str, str]], summary: str
) -> Result:
    """Each (name, token) must not be accepted on tools/list; refusals must be 401."""
    for name, token in variants:
        answer = s.call("tools/list", token)
        if accepted(answer):
            return failed(check_id, f"accepted {name}", answer, redact=(token,))
        if answer.status_code != 401:
            return failed(
                check_id,
                f"{name}: refused with {answer.status_code}, not 401",
                answer,
                redact=(token,),
            )
    return passed(check_id, summary)


@mcp_check("MS-03")
def audience_checked(s: McpProbeSession) -> Result:
    """A token for another resource, or for none, is refused (RFC 8707 §2)."""
    variants = [
        ("a token for another resource", s.mint(s.claims(aud=OTHER_AUDIENCE))),
        ("a token for the authorization server itself", s.mint(s.claims(aud=s.target.sandbox))),
        ("a token without aud", s.mint(s.claims(aud=None))),
    ]
    return _refused_all("MS-03", s, variants, "tokens for other audiences are refused")


@mcp_check("MS-04")
def issuer_and_signature_checked(s: McpProbeSession) -> Result:
    """Another issuer (the sandbox's key), an unknown key, alg=none, HS256 with the public key."""
    kid = s.published_kid
    variants = [
        (
            "another issuer signed with the sandbox's key",
            s.mint(s.claims(iss="https://evil.example")),
        ),
        ("a token signed by an unknown key", s.mint(signing="unknown-key")),
        ("an unknown key under the published kid", s.mint(signing="unknown-key", kid=kid)),
        ("alg=none with the published kid", s.mint(signing="none")),
        ("alg=none without a kid", s.mint(signing="none", kid=None)),
        (
            "HS256 keyed with the public key (PEM), published kid",
            s.mint(signing="hs256-public-key"),
        ),
        (
            "HS256 keyed with the public key (PEM), no kid",
            s.mint(signing="hs256-public-key", kid=None),
        ),
        ("HS256 keyed with the public JWK, published kid", s.mint(signing="hs256-public-jwk")),
        ("HS256 keyed with the public JWK, no kid", s.mint(signing="hs256-public-jwk", kid=None)),
    ]
    return _refused_all("MS-04", s, variants, "issuer, key and algorithm are checked")


@mcp_check("MS-05")
def expiry_and_revocation(s: McpProbeSession) -> Result:
    """Tokens expired minutes, hours and days ago are refused; a revoked one when introspected."""
    now = int(time.time())
    variants = [
        (f"a token expired {label} ago", s.mint(s.claims(iat=now - ago - 60, exp=now - ago)))
        for label, ago in (("5 minutes", 300), ("3 hours", 3 * 3600), ("3 days", 3 * 86400))
    ]
    expired = _refused_all("MS-05", s, variants, "expired tokens are refused")
    if expired.status != "pass":
        return expired
    revoked = s.mint(revoked=True)
    since = s.log_position()
    answer = s.call("tools/list", revoked)
    if not accepted(answer):
        return passed("MS-05", "expired and revoked tokens are refused")
    seen = fingerprint(revoked)
    if any(
        e.get("endpoint") == "introspect" and e.get("access_token") == seen
        for e in s.log_since(since)
    ):
        return failed(
            "MS-05",
            "introspection said inactive, yet the revoked token was accepted",
            answer,
            redact=(revoked,),
        )
    return passed(
        "MS-05",
        "expired tokens are refused (revocation n/a: the server verifies "
        "JWTs locally and does not introspect them)",
    )


def _step_up_problem(answer: httpx.Response, what: str) -> str:
    """'' when the answer is a proper step-up challenge (RFC 6750 §3.1), else the problem."""
    params = _challenge_params(answer.headers.get("www-authenticate", ""))
    if accepted(answer):
        return f"{what} was answered with too little scope"
    if answer.status_code == 401:
        return f"{what}: a bare 401 for too little scope, not 403 insufficient_scope"
    if answer.status_code != 403 or params.get("error") != "insufficient_scope":
        return f"{what}: answered {answer.status_code}, not 403 insufficient_scope"
    if not params.get("scope"):
        return f"{what}: the 403 names no scope to ask for"
    return ""


@mcp_check("MS-06")
def step_up(s: McpProbeSession) -> Result:
    """Too little scope: 403 insufficient_scope with `scope`, on tools/call too."""
    if not s.tools:
        return not_applicable("MS-06", "tools/list with a full token listed no tools")
    bare = s.mint(s.claims(scope=""))
    checked = [("tools/list", s.call("tools/list", bare))]
    checked += [(f"tools/call {t['name']}", s.tool_call(t, bare)) for t in s.tools]
    minimum = s.mint(s.claims(scope=_minimum_scope(s)))
    for tool in s.tools:  # with the minimum scope: allowed, or a proper step-up
        answer = s.tool_call(tool, minimum)
        if not accepted(answer):
            checked.append((f"tools/call {tool['name']} with the minimum scope", answer))
    for what, answer in checked:
        problem = _step_up_problem(answer, what)
        if problem:
            return failed("MS-06", problem, answer)
    return passed("MS-06", "too little scope gets 403 insufficient_scope, tools/call included")


def _minimum_scope(s: McpProbeSession) -> str:
    header = s.call("tools/list", None).headers.get("www-authenticate", "")
    return _challenge_params(header).get("scope", "").split(" ")[0]


@mcp_check("MS-07")
def header_only(s: McpProbeSession) -> Result:
    """A token in the query string or a form body is refused (RFC 6750 §2; OAuth 2.1)."""
    token = s.mint()
    headers = {"accept": "application/json, text/event-stream"}
    query = s.http.post(
        s.target.url, params={"access_token": token}, json=rpc_body("tools/list"), headers=headers
    )
    if accepted(query):
        return failed("MS-07", "accepted a token in the query string", query, redact=(token,))
    form = s.http.post(
        s.target.url,
        data={"access_token": token, "jsonrpc": "2.0", "id": "1", "method": "tools/list"},
        headers=headers,
    )
    if accepted(form):
        return failed("MS-07", "accepted a token in a form body", form, redact=(token,))
    return passed("MS-07", "only the Authorization header carries a token")


@mcp_check("MS-08")
def no_passthrough(s: McpProbeSession) -> Result:
    """The client's token never reaches the sandbox's API (its probe log shows every call)."""
    if not s.tools:
        return not_applicable("MS-08", "tools/list with a full token listed no tools")
    token = s.mint()
    since = s.log_position()
    for tool in s.tools:
        s.tool_call(tool, token)
    seen = fingerprint(token)
    arrived = [e for e in s.log_since(since) if e.get("access_token") == seen]
    if arrived:
        where = arrived[0].get("path") or arrived[0].get("endpoint")
        return failed("MS-08", f"the client's token reached the sandbox at {where}")
    return passed("MS-08", f"called {len(s.tools)} tools; the client's token went nowhere")


@mcp_check("MS-09")
def origin_checked(s: McpProbeSession) -> Result:
    """A foreign `Origin` and `null` are refused on the MCP endpoint (DNS rebinding)."""
    token = s.mint()
    for origin in ("https://evil.example", "null"):
        answer = s.call("tools/list", token, headers={"origin": origin})
        if accepted(answer):
            return failed(
                "MS-09", f"answered a request from Origin {origin}", answer, redact=(token,)
            )
    return passed("MS-09", "foreign and null origins are refused")


STACK_TRACE = re.compile(r"Traceback \(most recent call last\)|File \"[^\"]+\", line \d+")


@mcp_check("MS-10")
def clean_errors(s: McpProbeSession) -> Result:
    """Errors: no 5xx, no stack trace, no token; `WWW-Authenticate` on every 401."""
    good = s.mint()
    cases: list[tuple[str, str | None, httpx.Response]] = [
        ("no token", None, s.call("tools/list", None)),
        ("a garbage token", "not-a-token", s.call("tools/list", "not-a-token")),
        ("a malformed JWT", "eyJ.eyJ.x", s.call("tools/list", "eyJ.eyJ.x")),
        (
            "a token for another audience",
            None,
            s.call("tools/list", s.mint(s.claims(aud=OTHER_AUDIENCE))),
        ),
    ]
    broken = s.http.post(
        s.target.url,
        content=b'{"jsonrpc": "2.0", "id": 1, "method"',
        headers={
            "authorization": f"Bearer {good}",
            "content-type": "application/json",
            "accept": "application/json, text/event-stream",
        },
    )
    cases.append(("a broken JSON body", good, broken))
    for what, token, answer in cases:
        text = answer.text
        if answer.status_code >= 500:
            return failed("MS-10", f"{what}: answered {answer.status_code}", answer, redact=(good,))
        if STACK_TRACE.search(text):
            return failed("MS-10", f"{what}: the answer shows a stack trace", answer)
        if token and len(token) > 12 and token in text + str(answer.headers):
            return failed("MS-10", f"{what}: the answer repeats the token", answer, redact=(token,))
        if answer.status_code == 401 and "www-authenticate" not in answer.headers:
            return failed("MS-10", f"{what}: a 401 without WWW-Authenticate", answer)
    return passed("MS-10", "errors are clean and every 401 carries a challenge")

"""The MS ids: the authorization of an MCP server, checked by `valetkey probe mcp-server`
(src/valetkey/probe/mcp_server_checks.py) and met by the reference server (valetkey.mcp)."""

from __future__ import annotations

from valetkey.catalogue.entry import Entry, Example, Severity

ENTRIES: tuple[Entry, ...] = (
    Entry(
        id="MS-01",
        slug="resource-metadata",
        title=(
            "Protected-resource metadata is served and names the server and its authorization "
            "servers."
        ),
        severity=Severity.HIGH,
        clause="RFC 9728 §3, §3.3; MCP authorization (2025-06-18) §2.3",
        what=(
            "The server publishes RFC 9728 metadata at the path-inserted well-known URI (or the "
            "root one); its `resource` is the server's canonical URL, and each entry of the "
            "non-empty `authorization_servers` serves authorization-server metadata."
        ),
        why=(
            "MCP clients discover where to get tokens from this document. A wrong `resource` or "
            "an unreachable authorization server makes clients guess, and a client that guesses "
            "can be steered to an attacker's server."
        ),
        bad=Example(
            "http",
            """\
GET /.well-known/oauth-protected-resource/mcp

HTTP/1.1 200 OK
{"resource": "http://localhost:3000", "authorization_servers": []}
""",
        ),
        good=Example(
            "http",
            """\
GET /.well-known/oauth-protected-resource/mcp

HTTP/1.1 200 OK
{"resource": "https://mcp.example/mcp", "authorization_servers": ["https://auth.example"]}
""",
        ),
        fix=(
            "Serve /.well-known/oauth-protected-resource/<path> with `resource` equal to the "
            "endpoint's URL and a working `authorization_servers` list."
        ),
    ),
    Entry(
        id="MS-02",
        slug="challenge-points-at-metadata",
        title=(
            "A request without a token gets 401 with a `WWW-Authenticate` that points at the "
            "metadata."
        ),
        severity=Severity.MEDIUM,
        clause="RFC 9728 §5.1; RFC 6750 §3",
        what=(
            "An MCP request without a token is answered 401 with `WWW-Authenticate: Bearer` "
            "carrying `resource_metadata` set to the metadata URL."
        ),
        why=(
            "This is how a client learns that it must authorize and where to start; without it "
            "clients are configured by hand or fall back to unsafe defaults."
        ),
        bad=Example(
            "http",
            """\
POST /mcp  {"jsonrpc": "2.0", "method": "initialize", ...}

HTTP/1.1 401 Unauthorized
""",
        ),
        good=Example(
            "http",
            """\
POST /mcp  {"jsonrpc": "2.0", "method": "initialize", ...}

HTTP/1.1 401 Unauthorized
WWW-Authenticate: Bearer
  resource_metadata="https://mcp.example/.well-known/oauth-protected-resource/mcp"
""",
        ),
        fix=(
            "Answer unauthenticated requests with 401 and `WWW-Authenticate: Bearer "
            'resource_metadata="..."`.'
        ),
    ),
    Entry(
        id="MS-03",
        slug="audience-checked",
        title="A token minted for another resource is refused with 401.",
        severity=Severity.HIGH,
        clause="RFC 8707 §2; MCP authorization (2025-06-18) §2.5.2",
        what="The server accepts only tokens whose audience is this server's resource URL.",
        why=(
            "Without the audience check any token the authorization server issued, for any API, "
            "works here; one compromised or malicious MCP server can replay its users' tokens "
            "against all the others."
        ),
        bad=Example(
            "http",
            """\
POST /mcp
Authorization: Bearer (token with "aud": "https://other.example/api")

HTTP/1.1 200 OK
""",
        ),
        good=Example(
            "http",
            """\
POST /mcp
Authorization: Bearer (token with "aud": "https://other.example/api")

HTTP/1.1 401 Unauthorized
WWW-Authenticate: Bearer error="invalid_token"
""",
        ),
        fix=(
            "Validate `aud` (or the introspection answer's audience) against the canonical "
            "resource URL on every request."
        ),
    ),
    Entry(
        id="MS-04",
        slug="token-signature",
        title=(
            "Tokens from another issuer, an unknown key, `alg=none` or HS256 keyed with the "
            "public key are refused."
        ),
        severity=Severity.HIGH,
        clause="RFC 8725 §3.1, §3.2",
        what=(
            "JWT access tokens are verified against the trusted issuer's JWKS with pinned "
            "asymmetric algorithms; the probe presents each forgery and every one must get 401."
        ),
        why=(
            "Each forgery exploits a known verification bug; accepting one means anybody can mint "
            "tokens for any user and scope."
        ),
        bad=Example(
            "http",
            """\
POST /mcp
Authorization: Bearer eyJhbGciOiJub25lIn0.eyJzdWIiOiJhbGljZSJ9.

HTTP/1.1 200 OK
""",
        ),
        good=Example(
            "http",
            """\
POST /mcp
Authorization: Bearer eyJhbGciOiJub25lIn0.eyJzdWIiOiJhbGljZSJ9.

HTTP/1.1 401 Unauthorized
""",
        ),
        fix=(
            "Verify with a maintained JWT library, pin algorithms and issuer, and take keys only "
            "from the issuer's JWKS."
        ),
    ),
    Entry(
        id="MS-05",
        slug="expiry-and-revocation",
        title="Expired tokens are refused, and revoked ones too when the server introspects.",
        severity=Severity.HIGH,
        clause="RFC 7519 §4.1.4; RFC 7662 §2.2",
        what=(
            "A token past its `exp` gets 401; a server that uses introspection refuses a token "
            "the authorization server reports as inactive."
        ),
        why=(
            "Expiry and revocation are how a leaked or withdrawn token stops working; a server "
            "that ignores them keeps honouring it."
        ),
        bad=Example(
            "http",
            """\
POST /mcp
Authorization: Bearer (token that expired an hour ago)

HTTP/1.1 200 OK
""",
        ),
        good=Example(
            "http",
            """\
POST /mcp
Authorization: Bearer (token that expired an hour ago)

HTTP/1.1 401 Unauthorized
WWW-Authenticate: Bearer error="invalid_token"
""",
        ),
        fix=(
            "Check `exp` (with a small leeway) on every request, and honour `active: false` from "
            "introspection."
        ),
    ),
    Entry(
        id="MS-06",
        slug="insufficient-scope",
        title="Too little scope gets 403 `insufficient_scope` naming the scope needed.",
        severity=Severity.MEDIUM,
        clause="RFC 6750 §3.1; MCP authorization (2025-11-25) §2.6",
        what=(
            "A valid token that lacks the scope a tool needs gets 403 with `WWW-Authenticate: "
            'Bearer error="insufficient_scope", scope="..."`, not 200 and not a bare 401.'
        ),
        why=(
            "Answering 200 ignores scope entirely; a bare 401 makes clients re-authorize blindly "
            "instead of asking the user for exactly the missing permission (step-up)."
        ),
        bad=Example(
            "http",
            """\
POST /mcp  {"method": "tools/call", "params": {"name": "delete_photo"}}
Authorization: Bearer (token with scope "photos:read")

HTTP/1.1 200 OK
""",
        ),
        good=Example(
            "http",
            """\
POST /mcp  {"method": "tools/call", "params": {"name": "delete_photo"}}
Authorization: Bearer (token with scope "photos:read")

HTTP/1.1 403 Forbidden
WWW-Authenticate: Bearer error="insufficient_scope", scope="photos:write"
""",
        ),
        fix="Check each tool's required scopes and answer with 403 and the needed `scope`.",
    ),
    Entry(
        id="MS-07",
        slug="header-only",
        title="A token in the query string or a form body is refused.",
        severity=Severity.MEDIUM,
        clause="RFC 6750 §2; MCP authorization (2025-06-18) §2.5.1",
        what=(
            "The server reads tokens only from the `Authorization` header; the same token in "
            "`?access_token=` or a form field gets 401."
        ),
        why="Query strings are logged and leaked through referrers; MCP requires the header.",
        bad=Example(
            "http",
            """\
POST /mcp?access_token=eyJ...

HTTP/1.1 200 OK
""",
        ),
        good=Example(
            "http",
            """\
POST /mcp?access_token=eyJ...

HTTP/1.1 401 Unauthorized
WWW-Authenticate: Bearer resource_metadata="..."
""",
        ),
        fix="Ignore tokens outside the `Authorization` header and answer 401.",
    ),
    Entry(
        id="MS-08",
        slug="no-token-passthrough",
        title="The server never forwards the client's token to another API.",
        severity=Severity.HIGH,
        clause="MCP authorization (2025-06-18) §2.5.3",
        what=(
            "When the MCP server calls an upstream API (here the sandbox's own API), it uses a "
            "token issued to itself, never the token the MCP client presented."
        ),
        why=(
            "Passing the client's token through makes the MCP server a confused deputy: the "
            "upstream cannot tell who is calling, audience restrictions are bypassed, and audit "
            "trails point at the wrong party."
        ),
        bad=Example(
            "http",
            """\
(MCP server -> upstream) GET /api/photos
Authorization: Bearer (the MCP client's token, aud=https://mcp.example/mcp)
""",
        ),
        good=Example(
            "http",
            """\
(MCP server -> upstream) GET /api/photos
Authorization: Bearer (a token issued to the MCP server, aud=https://auth.example/api)
""",
        ),
        fix="Obtain a separate token for the upstream (token exchange or the server's own grant).",
    ),
    Entry(
        id="MS-09",
        slug="origin-checked",
        title="The MCP endpoint validates `Origin` and refuses a foreign one.",
        severity=Severity.HIGH,
        clause="MCP transports (2025-06-18) §2.0.1",
        what=(
            "A request whose `Origin` header names another site is refused (403) by the "
            "streamable HTTP endpoint."
        ),
        why=(
            "Without the check a web page can reach a local MCP server through DNS rebinding and "
            "drive its tools with whatever access the server has."
        ),
        bad=Example(
            "http",
            """\
POST /mcp
Origin: https://evil.example

HTTP/1.1 200 OK
""",
        ),
        good=Example(
            "http",
            """\
POST /mcp
Origin: https://evil.example

HTTP/1.1 403 Forbidden
""",
        ),
        fix=(
            "Compare `Origin` with an allow-list and refuse the rest; bind local servers to "
            "127.0.0.1."
        ),
    ),
    Entry(
        id="MS-10",
        slug="quiet-errors",
        title="Errors carry no stack trace and no token, and every 401 has `WWW-Authenticate`.",
        severity=Severity.MEDIUM,
        clause="RFC 6750 §3; MCP authorization (2025-06-18) §2.7",
        what=(
            "Error responses show a short message: no traceback, no token or secret; every 401 "
            "carries a `WWW-Authenticate` header."
        ),
        why=(
            "Stack traces map the server for attackers and echoed tokens leak them into client "
            "logs; a 401 without a challenge leaves clients unable to recover."
        ),
        bad=Example(
            "http",
            """\
HTTP/1.1 401 Unauthorized
{"error": "Traceback (most recent call last): ... jwt.exceptions.InvalidSignatureError"}
""",
        ),
        good=Example(
            "http",
            """\
HTTP/1.1 401 Unauthorized
WWW-Authenticate: Bearer error="invalid_token"
{"error": "invalid_token"}
""",
        ),
        fix=(
            "Map exceptions to fixed JSON-RPC errors, log the detail server side, and add the "
            "challenge to every 401."
        ),
    ),
)

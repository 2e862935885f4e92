"""CORS for the endpoints a browser-based client calls directly (MCP clients in a page).

The Fetch standard's CORS protocol: these answer any origin (`*`) without credentials, so a
page can read the metadata and keys and make its token, revocation and introspection calls
(authenticated by what it sends, never by cookies); a preflight (`OPTIONS`) gets 204 with
the methods and request headers allowed. The authorization endpoint and every page send no
CORS header at all (AS-36): they are navigated to, never fetched. A branch that adds an
endpoint for browsers adds its path to `CORS_PATHS`.
"""

from __future__ import annotations

from collections.abc import Sequence

from valetkey.provider.http import Response

# the paths of one issuer (without its tenant prefix) that answer CORS requests
CORS_PATHS: frozenset[str] = frozenset(
    {
        "/.well-known/oauth-authorization-server",
        "/.well-known/openid-configuration",
        "/jwks.json",
        "/token",
        "/revoke",
        "/introspect",
    }
)
ALLOWED_HEADERS = "authorization, content-type, dpop, mcp-protocol-version"
EXPOSED_HEADERS = "www-authenticate, dpop-nonce"  # an error's challenge must be readable
PREFLIGHT_MAX_AGE = "600"


def preflight(methods: Sequence[str]) -> Response:
    """The answer to a CORS preflight: 204, the methods the endpoint serves, the headers."""
    return Response(
        204,
        b"",
        [
            ("access-control-allow-origin", "*"),
            ("access-control-allow-methods", ", ".join((*methods, "OPTIONS"))),
            ("access-control-allow-headers", ALLOWED_HEADERS),
            ("access-control-max-age", PREFLIGHT_MAX_AGE),
        ],
    )


# what a response on one of those paths carries (a constant: the token endpoint's path
# runs no function here); any origin may read it, without credentials (`*` forbids them)
ALLOW_ANY_ORIGIN = ("access-control-allow-origin", "*")
EXPOSE = ("access-control-expose-headers", EXPOSED_HEADERS)

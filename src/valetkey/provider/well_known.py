"""The well-known metadata URIs of an issuer that has a path (a tenant: /tenants/NAME).

An MCP client (and any RFC 8414 client) that knows the issuer `https://host/tenants/acme`
tries, in order (MCP authorization, "Authorization Server Metadata Discovery"):

- RFC 8414 §3.1 path-insert: `/.well-known/oauth-authorization-server/tenants/acme`;
- OpenID Connect path-insert (RFC 8414 §5): `/.well-known/openid-configuration/tenants/acme`;
- OIDC Discovery 1.0 §4 path-append: `/tenants/acme/.well-known/openid-configuration`.

Each serves the tenant issuer's own document (RFC 8414 §3.3: its `issuer` is the one the
URI was built from). The path-append form is routed like any path under a tenant; this
module turns the path-insert forms into the tenant and the document asked for.
"""

from __future__ import annotations

METADATA_PATHS = ("/.well-known/oauth-authorization-server", "/.well-known/openid-configuration")


def path_inserted(path: str) -> tuple[str, str] | None:
    """For a path-inserted metadata URI: the issuer's path and the metadata document's
    path; None for any other path."""
    for document in METADATA_PATHS:
        if path.startswith(document + "/"):
            return path[len(document) :], document
    return None


def is_metadata_path(path: str) -> bool:
    """A well-known path, under any prefix: an unknown one is answered 404 in JSON."""
    return "/.well-known/" in path

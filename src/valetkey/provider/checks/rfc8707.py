"""Resource indicators (RFC 8707): which protected resource a token is for.

The `resource` parameter may be repeated (RFC 8707 §2) on the authorization request and on
every token request (authorization code, refresh, client credentials). Each value is an absolute URI
without a fragment (the sandbox also wants https or loopback http, and no query; see
`valetkey.oauth.resource_uri`), registered here with `valetkey resources add`; a value that
is not is `invalid_target` (RFC 8707 §2). At the token endpoint a resource must be one the
grant authorized (§2.2): absent, the token is for all of them; named, for those only, so a
refresh may narrow the audience and never widen it.

The scope rule (RFC 8707 §2 lets the server decide how scope and resource combine; this is
the sandbox's choice): where a request names resources, every scope it asks for must be one
that at least one of them serves, except the scopes the authorization server itself serves
(`openid`, `profile`, `email`, `offline_access`); anything else is `invalid_scope`. At the
token endpoint the access token's scope is cut down to what the named resources serve, so
it never carries a scope that none of its audiences understands.

Each check judges the `resource` parameter only (`param="resource"`): a request without it
passes them without their being called, and gets what it always got (an access token for
the sandbox's own API).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from valetkey.oauth.resource_uri import ResourceUriError, canonical_resource
from valetkey.oauth.scope import Scope
from valetkey.provider.checks import AuthorizeContext, TokenContext, check
from valetkey.provider.checks.rfc6749 import requested_scope
from valetkey.provider.errors import InvalidScope, InvalidTarget
from valetkey.provider.store.records import Resource

MAX_RESOURCES = 10
# the scopes the authorization server serves itself (OIDC Core §5.4, §11): no resource needed
SERVER_SCOPES = frozenset({"openid", "profile", "email", "offline_access"})


def canonical_or_none(value: str) -> str | None:
    """The canonical form of a `resource` value, None when it is malformed (for loaders)."""
    try:
        return canonical_resource(value)
    except ResourceUriError:
        return None


def _canonical(value: str) -> str:
    try:
        return canonical_resource(value)
    except ResourceUriError as exc:
        raise InvalidTarget(f"resource {exc}") from None


def _registered(values: Sequence[str], named: Mapping[str, Resource]) -> tuple[str, ...]:
    """The canonical resources the values name; invalid_target for any other (§2)."""
    if len(values) > MAX_RESOURCES:
        raise InvalidTarget(f"at most {MAX_RESOURCES} resource parameters")
    found: list[str] = []
    for value in values:
        uri = _canonical(value)
        if uri not in named:
            raise InvalidTarget(
                "resource is not registered at this server (valetkey resources add URI)",
                detail=f"unknown resource {uri}",
            )
        found.append(uri)
    return tuple(dict.fromkeys(found))


def _served(resources: Sequence[str], named: Mapping[str, Resource]) -> frozenset[str]:
    served = set(SERVER_SCOPES)
    for uri in resources:
        served |= named[uri].scopes
    return frozenset(served)


@check("", "RFC 8707 §2", param="resource", sets=("resources",))
def resources_registered(ctx: AuthorizeContext) -> None:
    """Each resource is an absolute URI, without a fragment, of a resource registered here."""
    ctx.resources = _registered(ctx.params.values("resource"), ctx.named_resources)


@check("", "RFC 8707 §2", param="resource", needs=("scopes", "resources"))
def scopes_served_by_resources(ctx: AuthorizeContext) -> None:
    """Every scope asked for is served by one of the resources named (or by the server).

    `openid`, `profile`, `email` and `offline_access` are the authorization server's own;
    any other scope must be one that at least one named resource was registered with."""
    unserved = sorted(ctx.scopes.names - _served(ctx.resources, ctx.named_resources))
    if unserved:
        raise InvalidScope(f"no resource named serves the scope: {' '.join(unserved)}")


def _authorized(ctx: TokenContext, authorized: str) -> None:
    """The resources named, within those the grant authorized (RFC 8707 §2.2)."""
    named = _registered(ctx.params.values("resource"), ctx.named_resources)
    outside = [uri for uri in named if uri not in authorized.split()]
    if outside:
        raise InvalidTarget(
            "resource was not authorized for this grant; ask for it at /authorize",
            detail=f"not authorized: {' '.join(outside)}",
        )
    ctx.resources = named


@check("", "RFC 8707 §2.2", param="resource", needs=("code",), sets=("resources", "access_scopes"))
def code_resources_authorized(ctx: TokenContext) -> None:
    """Each resource named with the code is one the authorization request named.

    The access token's scope is the code's, cut down to what the named resources serve; the
    refresh token keeps the whole grant."""
    assert ctx.code is not None
    _authorized(ctx, ctx.code.resources)
    assert ctx.resources is not None
    served = _served(ctx.resources, ctx.named_resources)
    ctx.access_scopes = Scope(name for name in Scope.lenient(ctx.code.scope) if name in served)


def _cut_to_audience(ctx: TokenContext) -> None:
    """The access token's scope: `ctx.scopes` cut down to what the named resources serve;
    a scope the client asked for explicitly that none of them serves is invalid_scope."""
    assert ctx.resources is not None
    served = _served(ctx.resources, ctx.named_resources)
    asked = ctx.params.get("scope")
    if asked is not None:
        unserved = sorted(requested_scope(asked).names - served)
        if unserved:
            raise InvalidScope(f"no resource named serves the scope: {' '.join(unserved)}")
    ctx.access_scopes = Scope(name for name in ctx.scopes if name in served)


@check(
    "",
    "RFC 8707 §2.2",
    param="resource",
    needs=("refresh", "scopes"),
    sets=("resources", "access_scopes"),
)
def refresh_resources_within_grant(ctx: TokenContext) -> None:
    """A refresh names only resources the grant holds: it may narrow, never widen.

    A scope asked for explicitly must be served by the resources named (invalid_scope);
    without `scope`, the access token's scope is the grant's cut down to what they serve.
    The new refresh token keeps the scope and resources of the one presented (RFC 6749 §6,
    RFC 8707 §2.2), so a later refresh may name another of the grant's resources."""
    assert ctx.refresh is not None
    _authorized(ctx, ctx.refresh.resources)
    _cut_to_audience(ctx)


@check("", "RFC 8707 §2", param="resource", needs=("scopes",), sets=("resources", "access_scopes"))
def client_credentials_resources(ctx: TokenContext) -> None:
    """Each resource a client-credentials request names is registered here; the token is
    for those.

    A scope asked for explicitly must be served by them (invalid_scope); without `scope`,
    the client's scopes are cut down to what they serve."""
    ctx.resources = _registered(ctx.params.values("resource"), ctx.named_resources)
    _cut_to_audience(ctx)

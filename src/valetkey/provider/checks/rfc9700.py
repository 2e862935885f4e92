"""Refresh-token checks: RFC 6749 §6 with RFC 9700 §4.14's rotation and replay detection."""

from __future__ import annotations

from valetkey.oauth.scope import Scope
from valetkey.provider.checks import RevokeGrant, TokenContext, check
from valetkey.provider.checks.rfc6749 import requested_scope
from valetkey.provider.errors import InvalidGrant, InvalidRequest, InvalidScope
from valetkey.provider.tokens import digest, same

_INVALID = "the refresh token is invalid, expired or revoked"


@check("AS-26", "RFC 6749 §6", needs=("client",), sets=("refresh",))
def refresh_token_known(ctx: TokenContext) -> None:
    """The refresh token is one this server issued, still valid, and issued to this client."""
    assert ctx.client is not None
    value = ctx.params.get("refresh_token")
    if value is None:
        raise InvalidRequest("refresh_token is required")
    found = ctx.presented_refresh  # loaded by the hash of the presented value
    if found is None or found[0].kind != "refresh" or not same(found[0].id, digest(value)):
        raise InvalidGrant(_INVALID)
    token, grant_revoked = found
    if token.client_id != ctx.client.client_id:
        raise InvalidGrant(_INVALID, detail="refresh token presented by another client")
    if token.revoked_at is not None or grant_revoked is not None:
        raise InvalidGrant(_INVALID)
    if token.expires_at <= ctx.now:
        raise InvalidGrant(_INVALID)
    ctx.refresh = token


@check("AS-26", "RFC 9700 §4.14.2", needs=("refresh",))
def refresh_token_not_replayed(ctx: TokenContext) -> None:
    """A refresh token works once; replaying a used one revokes the whole token family."""
    assert ctx.refresh is not None
    if ctx.refresh.used_at is not None:
        if ctx.refresh.grant_id is not None:
            ctx.actions.append(RevokeGrant(ctx.refresh.grant_id))
        raise InvalidGrant("the refresh token was already used; its token family is revoked")


@check("AS-43", "RFC 6749 §6", needs=("refresh",), sets=("scopes",))
def refresh_scope_not_broader(ctx: TokenContext) -> None:
    """A scope asked for on refresh is within what the grant holds: no scope upgrade."""
    assert ctx.refresh is not None
    granted = Scope.lenient(ctx.refresh.scope)
    requested = ctx.params.get("scope")
    scopes = requested_scope(requested) if requested else granted
    extra = sorted((scopes - granted).names)
    if extra:
        raise InvalidScope(f"scope beyond the original grant: {' '.join(extra)}")
    ctx.scopes = scopes

"""The refresh_token grant with rotation (RFC 6749 §6, RFC 9700 §4.14.2)."""

from __future__ import annotations

from valetkey.provider.checks import Table, rfc9449, rfc9700
from valetkey.provider.checks.context import RevokeGrant, TokenContext
from valetkey.provider.core import Provider
from valetkey.provider.errors import InvalidGrant
from valetkey.provider.grants.issuance import Issued, issue
from valetkey.provider.lab import LabSwitch

CHECKS = Table.of(
    "token: refresh_token",
    [
        rfc9700.refresh_token_known,
        rfc9700.refresh_token_not_replayed,
        rfc9449.refresh_proof_same_key,
        rfc9700.refresh_scope_not_broader,
    ],
    given=("client", "grant_type"),
)


def redeem(provider: Provider, ctx: TokenContext) -> Issued:
    """Use the refresh token up (atomically) and issue a new pair in the same grant."""
    token, client, now = ctx.refresh, ctx.client, ctx.now
    assert token is not None and client is not None
    user = provider.store.user_by_id(token.user_id) if token.user_id is not None else None
    if provider.lab(LabSwitch.NO_REFRESH_ROTATION):  # LAB: the same refresh token, forever
        issued = issue(
            provider,
            client,
            user,
            str(ctx.scopes),
            token.grant_id,
            refresh=False,
            jkt=ctx.dpop_jkt,
        )
        issued.body["refresh_token"] = ctx.params.get("refresh_token")
        return issued
    if not provider.store.claim_refresh_token(token.id, now):
        if token.grant_id is not None:  # lost a race with another use: treat as replay
            ctx.actions.append(RevokeGrant(token.grant_id))
        raise InvalidGrant("the refresh token was already used; its token family is revoked")
    return issue(
        provider, client, user, str(ctx.scopes), token.grant_id, refresh=True, jkt=ctx.dpop_jkt
    )

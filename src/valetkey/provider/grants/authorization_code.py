"""The authorization_code grant (RFC 6749 §4.1.3, RFC 7636 §4.5, OIDC Core §3.1.3)."""

from __future__ import annotations

from typing import Any

from valetkey.oauth.scope import Scope
from valetkey.provider.checks import Table, rfc6749, rfc7636
from valetkey.provider.checks.context import TokenContext
from valetkey.provider.core import Provider
from valetkey.provider.errors import InvalidGrant
from valetkey.provider.grants.issuance import Issued, issue, new_grant, user_claims
from valetkey.provider.lab import LabSwitch

CHECKS = Table.of(
    "token: authorization_code",
    [
        rfc6749.code_known,
        rfc6749.code_bound_to_client,
        rfc6749.code_not_used_before,
        rfc6749.code_not_expired,
        rfc6749.redirect_uri_matches,
        rfc7636.verifier_well_formed,
        rfc7636.verifier_matches,
        rfc7636.no_pkce_downgrade,
    ],
    given=("client", "grant_type"),
)


def redeem(provider: Provider, ctx: TokenContext) -> Issued:
    """Claim the code atomically, then issue; a lost race counts as a replay (AS-15, AS-17).
    The claim and the tokens are written in the request's one transaction."""
    code, client = ctx.code, ctx.client
    assert code is not None and client is not None
    user = provider.store.user_by_id(code.user_id)
    if user is None:
        raise InvalidGrant("the user of this code no longer exists")
    grant = new_grant(client, user, code.scope, code.flow_id, ctx.now)
    claimed = provider.store.claim_code(code.code_hash, ctx.now, grant.id)
    if not claimed and not provider.lab(LabSwitch.CODE_REUSE):  # LAB code-reuse
        raise InvalidGrant("the authorization code was already used")
    scopes = Scope.lenient(code.scope)
    id_claims: dict[str, Any] | None = None
    if "openid" in scopes:
        id_claims = {**user_claims(user, scopes), "auth_time": int(code.auth_time)}
        if code.nonce is not None:
            id_claims["nonce"] = code.nonce  # OIDC Core §3.1.3.6
    refresh = "refresh_token" in client.grant_types
    issued = issue(
        provider,
        client,
        user,
        code.scope,
        grant.id,
        refresh=refresh,
        id_token_claims=id_claims,
        jkt=ctx.dpop_jkt,
    )
    return Issued(issued.body, issued.tokens, grant)

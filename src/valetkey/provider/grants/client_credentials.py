"""The client_credentials grant (RFC 6749 §4.4): an access token and nothing else."""

from __future__ import annotations

from valetkey.provider.checks import rfc6749
from valetkey.provider.checks.context import TokenContext
from valetkey.provider.grants.issuance import Issued, issue

CHECKS = (rfc6749.client_credentials_confidential, rfc6749.client_scope_registered)


def redeem(ctx: TokenContext) -> Issued:
    """No refresh token (RFC 6749 §4.4.3; AS-27) and no ID token: there is no user."""
    assert ctx.client is not None
    return issue(
        ctx.provider, ctx.client, None, str(ctx.scopes), None, refresh=False, jkt=ctx.dpop_jkt
    )

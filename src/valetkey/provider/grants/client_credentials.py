"""The client_credentials grant (RFC 6749 §4.4): an access token and nothing else."""

from __future__ import annotations

from valetkey.provider.checks import Table, rfc6749
from valetkey.provider.checks.context import TokenContext
from valetkey.provider.core import Provider
from valetkey.provider.grants.issuance import Issued, issue

CHECKS = Table.of(
    "token: client_credentials",
    [rfc6749.client_credentials_confidential, rfc6749.client_scope_registered],
    given=("client", "grant_type"),
)


def redeem(provider: Provider, ctx: TokenContext) -> Issued:
    """No refresh token (RFC 6749 §4.4.3; AS-27) and no ID token: there is no user."""
    assert ctx.client is not None
    return issue(provider, ctx.client, None, str(ctx.scopes), None, refresh=False, jkt=ctx.dpop_jkt)

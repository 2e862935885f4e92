"""Checks of token revocation (RFC 7009) and introspection (RFC 7662) requests."""

from __future__ import annotations

from valetkey.provider.checks import TokenContext, check
from valetkey.provider.errors import InvalidClient, InvalidRequest, UnsupportedTokenType

HINTS = (None, "access_token", "refresh_token")


@check("AS-40", "RFC 7009 §2.1; RFC 7662 §2.1")
def token_parameter_present(ctx: TokenContext) -> None:
    """The request names the token it is about (the `token` parameter)."""
    if ctx.params.get("token") is None:
        raise InvalidRequest("token is required")


@check("", "RFC 7009 §2.1, §2.2.1")
def token_type_hint_known(ctx: TokenContext) -> None:
    """token_type_hint, when sent, is access_token or refresh_token."""
    if ctx.params.get("token_type_hint") not in HINTS:
        raise UnsupportedTokenType("token_type_hint must be access_token or refresh_token")


@check("", "RFC 7662 §2.1", needs=("client",))
def introspecting_client_confidential(ctx: TokenContext) -> None:
    """Only a confidential client (a protected resource with its secret) may introspect."""
    assert ctx.client is not None
    if ctx.client.is_public:
        raise InvalidClient("introspection needs a confidential client with its secret")

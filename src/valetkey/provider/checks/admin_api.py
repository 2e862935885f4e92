"""The admin API's one check: the admin token, as a bearer credential (RFC 6750 §2.1)."""

from __future__ import annotations

from valetkey.provider.checks import AdminContext, Table, check
from valetkey.provider.errors import InvalidToken
from valetkey.provider.tokens import same


@check("", "RFC 6750 §2.1")
def admin_token_presented(ctx: AdminContext) -> None:
    """The request carries the sandbox's admin token as a Bearer credential."""
    header = ctx.request.headers.get("authorization", "")
    if not header.startswith("Bearer ") or not same(header[7:], ctx.admin_token):
        raise InvalidToken("send the admin token: Authorization: Bearer <token>")


ADMIN_CHECKS = Table.of("admin API", [admin_token_presented])

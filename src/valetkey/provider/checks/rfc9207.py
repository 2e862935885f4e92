"""RFC 9207: the authorization server's issuer identifier in the authorization response.

This table judges the sandbox's own response before it leaves, so the flow record says
whether the response named its issuer (with `--lab no-iss`, or a probe's forged response, it
did not, and the record says that too).
"""

from __future__ import annotations

from valetkey.provider.checks import ResponseContext, Table, check
from valetkey.provider.errors import OAuthError


class IssuerMissing(OAuthError):
    error = "server_error"
    status = 500


@check("AS-14", "RFC 9207 §2")
def iss_in_response(ctx: ResponseContext) -> None:
    """iss is added to the authorization response, equal to the issuer identifier."""
    if ctx.params.get("iss") != ctx.issuer:
        raise IssuerMissing("the authorization response does not name this issuer in iss")


RESPONSE_CHECKS = Table.of("authorization response", [iss_in_response])

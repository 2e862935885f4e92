"""Bearer-token use at the resource server and userinfo (RFC 6750, RFC 9068 §4, RFC 9449 §7),
as a table: the token comes in the Authorization header, is active, is used as it is bound,
and carries the scope the resource needs. The loader looks the token up first."""

from __future__ import annotations

import re

from valetkey.oauth.scope import Scope
from valetkey.provider.checks import BearerContext, Table, check
from valetkey.provider.checks.rfc9449 import request_url, verify_proof
from valetkey.provider.errors import (
    InsufficientScope,
    InvalidDpopProof,
    InvalidRequest,
    InvalidToken,
    MissingToken,
    ResourceDpopError,
)
from valetkey.provider.http import Request

TOKEN68 = re.compile(r"[A-Za-z0-9\-._~+/]+=*")


def presented_value(request: Request) -> str | None:
    """The token in the Authorization header, for the loader; None when there is none."""
    scheme, _, value = request.headers.get("authorization", "").partition(" ")
    value = value.strip()
    if scheme.lower() in ("bearer", "dpop") and TOKEN68.fullmatch(value):
        return value
    return None


@check("AS-30", "RFC 6750 §2.1, §2.3", sets=("value",))
def token_in_header(ctx: BearerContext) -> None:
    """The access token comes in the Authorization header, never in the URL or the body.

    The scheme is Bearer, or DPoP for a DPoP-bound token (checked by `token_used_as_bound`).
    """
    request = ctx.request
    if "access_token" in {name for name, _ in request.query.pairs}:
        raise InvalidRequest("send the access token in the Authorization header, not the URL")
    if "access_token" in {name for name, _ in request.form.pairs}:
        raise InvalidRequest("send the access token in the Authorization header")
    header = request.headers.get("authorization")
    if header is None:
        raise MissingToken("an access token is required")
    value = presented_value(request)
    if value is None:
        raise InvalidRequest("use the Bearer scheme: Authorization: Bearer <token>")
    ctx.value = value


@check("", "RFC 6750 §3.1; RFC 9068 §4", needs=("value",), sets=("token",))
def token_active(ctx: BearerContext) -> None:
    """The access token is one this server issued, not revoked and not expired."""
    found = ctx.found  # loaded for the presented value
    if found is None or found[0].kind != "access":
        raise InvalidToken("the access token is not valid")
    token, grant_revoked = found
    if token.revoked_at is not None or grant_revoked is not None:
        raise InvalidToken("the access token was revoked")
    if token.expires_at <= ctx.now:
        raise InvalidToken("the access token expired")
    ctx.token = token


@check("AS-29", "RFC 8707 §2; RFC 9068 §4", needs=("token",))
def token_for_this_api(ctx: BearerContext) -> None:
    """The access token is for the sandbox's own API: one issued for a resource named with
    `resource` (an MCP server, say) is refused here, as any resource server must refuse a
    token meant for another audience."""
    assert ctx.token is not None
    if ctx.token.resources:
        raise InvalidToken("the access token was issued for another resource")


@check("AS-29", "RFC 9449 §7", needs=("token",))
def token_used_as_bound(ctx: BearerContext) -> None:
    """A DPoP-bound token comes with the DPoP scheme and a proof by its key; a Bearer token
    with the Bearer scheme."""
    assert ctx.token is not None
    request, token = ctx.request, ctx.token
    scheme = request.headers.get("authorization", "").partition(" ")[0].lower()
    if token.jkt is None:
        if scheme == "dpop":
            raise InvalidToken("this access token is not DPoP-bound; use the Bearer scheme")
        return
    if scheme != "dpop":
        raise InvalidToken("this access token is DPoP-bound; send it with the DPoP scheme")
    proof = request.headers.get("dpop")
    if proof is None:
        raise ResourceDpopError("a DPoP proof is required with a DPoP-bound token")
    url = request_url(ctx.dpop.origin, request)
    try:
        jkt = verify_proof(
            proof, request.method, url, ctx.now, ctx.dpop.replay, access_token=ctx.value
        )
    except InvalidDpopProof as exc:
        raise ResourceDpopError(exc.description) from None
    if jkt != token.jkt:
        raise ResourceDpopError("the DPoP proof is signed by another key than the token's")


@check("", "RFC 6750 §3.1", needs=("token",))
def scope_sufficient(ctx: BearerContext) -> None:
    """The token carries the scope this resource needs."""
    assert ctx.token is not None
    if ctx.required_scope is not None and ctx.required_scope not in Scope.lenient(ctx.token.scope):
        raise InsufficientScope(
            f"this call needs the scope {ctx.required_scope}", ctx.required_scope
        )


BEARER_CHECKS = Table.of(
    "resource",
    [token_in_header, token_active, token_for_this_api, token_used_as_bound, scope_sufficient],
)

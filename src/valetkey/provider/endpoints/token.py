"""The token endpoint (RFC 6749 §3.2): authenticate the client, run the grant's checks, issue."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from valetkey.provider.checks import Check, CheckResult, client_auth, rfc6749, run_checks
from valetkey.provider.checks.context import TokenContext
from valetkey.provider.core import Provider
from valetkey.provider.errors import InvalidClient, OAuthError
from valetkey.provider.flows import AUTHORIZATION_SERVER, CLIENT
from valetkey.provider.grants import authorization_code, client_credentials, refresh_token
from valetkey.provider.grants.issuance import Issued
from valetkey.provider.http import Request, Response, json_response

COMMON_CHECKS = (
    rfc6749.token_request_is_post,
    rfc6749.no_query_parameters,
    rfc6749.form_encoded,
    rfc6749.token_parameters_not_repeated,
    client_auth.client_authenticated,
    rfc6749.grant_type_supported,
    rfc6749.client_may_use_grant,
)

Grant = tuple[Sequence[Check[TokenContext]], Callable[[TokenContext], Issued]]
GRANTS: dict[str, Grant] = {
    "authorization_code": (authorization_code.CHECKS, authorization_code.redeem),
    "refresh_token": (refresh_token.CHECKS, refresh_token.redeem),
    "client_credentials": (client_credentials.CHECKS, client_credentials.redeem),
}

TOKEN_PARAMS = ("grant_type", "code", "redirect_uri", "code_verifier", "refresh_token", "scope")


def error_response(exc: OAuthError) -> Response:
    """RFC 6749 §5.2; invalid_client is 401 with a Basic challenge."""
    extra: list[tuple[str, str]] = []
    if isinstance(exc, InvalidClient):
        extra.append(("www-authenticate", 'Basic realm="valetkey", charset="UTF-8"'))
    if exc.status == 405:
        extra.append(("allow", "POST"))
    return json_response(exc.body(), exc.status, extra)


def token(provider: Provider, request: Request) -> Response:
    ctx = TokenContext(provider, request)
    results: list[CheckResult] = []
    try:
        run_checks(COMMON_CHECKS, ctx, results)
        checks, redeem = GRANTS[ctx.grant_type]
        run_checks(checks, ctx, results)
        issued = redeem(ctx)
        provider.store.issue(issued.new_grant, issued.tokens)
    except OAuthError as exc:
        _record(ctx, results, exc.error)
        return error_response(exc)
    _record(ctx, results, None, issued.body)
    return json_response(issued.body)


def _flow_id(ctx: TokenContext) -> str | None:
    if ctx.code is not None:
        return ctx.code.flow_id
    if ctx.refresh is not None and ctx.refresh.grant_id is not None:
        grant = ctx.provider.store.grant(ctx.refresh.grant_id)
        return grant.flow_id if grant else None
    return None


def _record(
    ctx: TokenContext,
    results: list[CheckResult],
    error: str | None,
    body: dict[str, Any] | None = None,
) -> None:
    flow_id = _flow_id(ctx)
    if flow_id is None:
        return
    flows = ctx.provider.flows
    params = {name: ctx.params.get(name) for name in TOKEN_PARAMS}
    params["client_auth"] = ctx.auth_method
    summary = "The app exchanges the code for tokens over the back channel."
    if ctx.grant_type == "refresh_token":
        summary = "The app uses its refresh token for new tokens over the back channel."
    flows.record(
        flow_id,
        "token_request",
        (CLIENT, AUTHORIZATION_SERVER, "back"),
        summary,
        params,
        results,
        outcome="failed" if error else None,
    )
    if error is not None:
        return
    assert body is not None
    sent = {k: str(v) for k, v in body.items()}
    flows.record(
        flow_id,
        "token_response",
        (AUTHORIZATION_SERVER, CLIENT, "back"),
        "The authorization server answers with tokens; the browser never sees them.",
        sent,
        outcome="completed",
    )

"""Token revocation (RFC 7009) and introspection (RFC 7662), both for authenticated clients."""

from __future__ import annotations

from typing import Any

from valetkey.oauth.redaction import fingerprint
from valetkey.provider.checks import (
    CheckResult,
    RevokeGrant,
    RevokeToken,
    Table,
    TokenContext,
    rfc6749,
    rfc7009,
)
from valetkey.provider.core import Provider
from valetkey.provider.endpoints.token import error_response
from valetkey.provider.errors import OAuthError
from valetkey.provider.http import Request, Response, json_response
from valetkey.provider.store.records import Token
from valetkey.provider.tokens import TokenFormatError, aud_claim, digest, token_id

REQUEST_CHECKS = [
    rfc6749.token_request_is_post,
    rfc6749.no_query_parameters,
    rfc6749.form_encoded,
    rfc6749.token_parameters_not_repeated,
    rfc6749.client_authenticated,
    rfc7009.token_parameter_present,
    rfc7009.token_type_hint_known,
]
LOADED = ("credentials",)  # by `load`
REVOCATION_CHECKS = Table.of("revocation", REQUEST_CHECKS, given=LOADED)
INTROSPECTION_CHECKS = Table.of(
    "introspection", [*REQUEST_CHECKS, rfc7009.introspecting_client_confidential], given=LOADED
)


def _lookup(provider: Provider, value: str) -> tuple[Token, float | None] | None:
    try:
        key = token_id(provider.keys, value)
    except TokenFormatError:
        key = digest(value)
    return provider.store.token(key)


def load(provider: Provider, request: Request) -> TokenContext:
    """The client the credentials name and the token the request is about."""
    ctx = TokenContext(request, provider.clock.now())
    provider.load_credentials(ctx)
    value = request.form.get("token")
    if value is not None:
        ctx.presented_token = _lookup(provider, value)
    return ctx


def _checked(provider: Provider, request: Request, table: Table[TokenContext]) -> TokenContext:
    ctx = load(provider, request)
    results: list[CheckResult] = []
    provider.table(table).run(ctx, results)
    return ctx


def revoke(provider: Provider, request: Request) -> Response:
    """RFC 7009 §2.1: revoking a refresh token revokes its whole grant; unknown tokens and
    other clients' tokens are answered 200 and left alone (§2.2)."""
    try:
        ctx = _checked(provider, request, REVOCATION_CHECKS)
    except OAuthError as exc:
        return error_response(exc)
    assert ctx.client is not None
    found = ctx.presented_token
    if found is not None and found[0].client_id == ctx.client.client_id:
        token = found[0]
        if token.kind == "refresh" and token.grant_id is not None:
            ctx.actions.append(RevokeGrant(token.grant_id))
        else:
            ctx.actions.append(RevokeToken(token.id))
    provider.perform(ctx.actions)
    return json_response({})


def introspect(provider: Provider, request: Request) -> Response:
    """RFC 7662 §2.2: `active` and, for an active token, what it is for; only to the
    confidential client the token was issued to, or to the client of a resource server the
    access token is for (its `aud`)."""
    try:
        ctx = _checked(provider, request, INTROSPECTION_CHECKS)
    except OAuthError as exc:
        return error_response(exc)
    assert ctx.client is not None
    if provider.probe is not None:  # LAB probe-mode: the MCP probe sees who introspects what
        value = request.form.get("token") or ""
        provider.probe.record(
            endpoint="introspect", client_id=ctx.client.client_id, access_token=fingerprint(value)
        )
    found = ctx.presented_token
    if found is None or found[1] is not None or found[0].revoked_at is not None:
        return json_response({"active": False})
    if not may_introspect(provider, found[0], ctx.client.client_id):  # RFC 7662 §4
        return json_response({"active": False})
    token = found[0]
    if token.expires_at <= ctx.now or (token.kind == "refresh" and token.used_at is not None):
        return json_response({"active": False})
    return json_response(_describe(provider, token))


def may_introspect(provider: Provider, token: Token, client_id: str) -> bool:
    """RFC 7662 §2.1 leaves it to the authorization server who may learn about a token; to
    stop token scanning (§4) the sandbox answers only the client it was issued to and the
    resource servers it is for, each authenticated as the client its resource names."""
    if token.client_id == client_id:
        return True
    if token.kind != "access":
        return False
    for uri in token.resources.split():
        resource = provider.store.resource(uri)
        if resource is not None and resource.client_id == client_id:
            return True
    return False


def _token_type(token: Token) -> str:
    if token.kind != "access":
        return "refresh_token"
    return "DPoP" if token.jkt is not None else "Bearer"  # RFC 9449 §6.2


def _describe(provider: Provider, token: Token) -> dict[str, Any]:
    user = provider.store.user_by_id(token.user_id) if token.user_id is not None else None
    body: dict[str, Any] = {
        "active": True,
        "scope": token.scope,
        "client_id": token.client_id,
        "token_type": _token_type(token),
        "exp": int(token.expires_at),
        "iat": int(token.created_at),
        "iss": provider.issuer,
        "sub": user.sub if user else token.client_id,
    }
    if token.jkt is not None:
        body["cnf"] = {"jkt": token.jkt}  # RFC 9449 §6.2
    if user is not None:
        body["username"] = user.username
    if token.kind == "access":  # RFC 7662 §2.2; RFC 8707 §2: the resources it is for
        body["aud"] = aud_claim(provider.issuer, token.resources.split())
    return body

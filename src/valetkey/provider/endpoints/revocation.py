"""Token revocation (RFC 7009) and introspection (RFC 7662), both for authenticated clients."""

from __future__ import annotations

from typing import Any

from valetkey.provider.checks import rfc6749, run_checks
from valetkey.provider.checks.client_auth import authenticate
from valetkey.provider.checks.context import TokenContext
from valetkey.provider.core import Provider
from valetkey.provider.endpoints.token import error_response
from valetkey.provider.errors import (
    InvalidClient,
    InvalidRequest,
    OAuthError,
    UnsupportedTokenType,
)
from valetkey.provider.http import Request, Response, json_response
from valetkey.provider.store.records import Token
from valetkey.provider.tokens import TokenFormatError, digest, token_id

REQUEST_CHECKS = (
    rfc6749.token_request_is_post,
    rfc6749.no_query_parameters,
    rfc6749.form_encoded,
    rfc6749.token_parameters_not_repeated,
)
HINTS = (None, "access_token", "refresh_token")


def _lookup(provider: Provider, value: str) -> tuple[Token, float | None] | None:
    try:
        key = token_id(provider.keys, value)
    except TokenFormatError:
        key = digest(value)
    return provider.store.token(key)


def _prepare(provider: Provider, request: Request) -> tuple[TokenContext, str]:
    ctx = TokenContext(provider, request)
    run_checks(REQUEST_CHECKS, ctx, [])
    ctx.client, ctx.auth_method = authenticate(provider.store, request)
    value = request.form.get("token")
    if value is None:
        raise InvalidRequest("token is required")
    if request.form.get("token_type_hint") not in HINTS:
        raise UnsupportedTokenType("token_type_hint must be access_token or refresh_token")
    return ctx, value


def revoke(provider: Provider, request: Request) -> Response:
    """RFC 7009 §2.1: revoking a refresh token revokes its whole grant; unknown tokens and
    other clients' tokens are answered 200 and left alone (§2.2)."""
    try:
        ctx, value = _prepare(provider, request)
    except OAuthError as exc:
        return error_response(exc)
    assert ctx.client is not None
    found = _lookup(provider, value)
    if found is not None and found[0].client_id == ctx.client.client_id:
        token = found[0]
        now = provider.clock.now()
        if token.kind == "refresh" and token.grant_id is not None:
            provider.store.revoke_grant(token.grant_id, now)
        else:
            provider.store.revoke_token(token.id, now)
    return json_response({})


def introspect(provider: Provider, request: Request) -> Response:
    """RFC 7662 §2.2: `active` and, for an active token, what it is for; only to the
    confidential client the token was issued to."""
    try:
        ctx, value = _prepare(provider, request)
        assert ctx.client is not None
        if ctx.client.is_public:  # RFC 7662 §2.1: the protected resource authenticates
            raise InvalidClient("introspection needs a confidential client with its secret")
    except OAuthError as exc:
        return error_response(exc)
    found = _lookup(provider, value)
    now = provider.clock.now()
    if found is None or found[1] is not None or found[0].revoked_at is not None:
        return json_response({"active": False})
    if found[0].client_id != ctx.client.client_id:  # RFC 7662 §4: no token scanning
        return json_response({"active": False})
    token = found[0]
    if token.expires_at <= now or (token.kind == "refresh" and token.used_at is not None):
        return json_response({"active": False})
    return json_response(_describe(provider, token))


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
    if token.kind == "access":
        body["aud"] = provider.issuer + "/api"
    return body

"""Bearer-token use at the resource server and userinfo (RFC 6750, RFC 9068 §4)."""

from __future__ import annotations

import re

from valetkey.provider.core import Provider
from valetkey.provider.errors import InsufficientScope, InvalidRequest, InvalidToken, MissingToken
from valetkey.provider.http import Request
from valetkey.provider.store.records import Token
from valetkey.provider.tokens import TokenFormatError, token_id

TOKEN68 = re.compile(r"[A-Za-z0-9\-._~+/]+=*")


def bearer_value(request: Request) -> str:
    """The token from the Authorization header; never from the URL (RFC 6750 §2.3; AS-30)."""
    if "access_token" in {name for name, _ in request.query.pairs}:
        raise InvalidRequest("send the access token in the Authorization header, not the URL")
    if "access_token" in {name for name, _ in request.form.pairs}:
        raise InvalidRequest("send the access token in the Authorization header")
    header = request.headers.get("authorization")
    if header is None:
        raise MissingToken("an access token is required")
    scheme, _, value = header.partition(" ")
    value = value.strip()
    if scheme.lower() != "bearer" or not TOKEN68.fullmatch(value):
        raise InvalidRequest("use the Bearer scheme: Authorization: Bearer <token>")
    return value


def active_token(provider: Provider, value: str) -> Token:
    """The stored token behind the value, if it is an access token still active."""
    try:
        found = provider.store.token(token_id(provider.keys, value))
    except TokenFormatError:
        found = None
    if found is None or found[0].kind != "access":
        raise InvalidToken("the access token is not valid")
    token, grant_revoked = found
    if token.revoked_at is not None or grant_revoked is not None:
        raise InvalidToken("the access token was revoked")
    if token.expires_at <= provider.clock.now():
        raise InvalidToken("the access token expired")
    return token


def require_scope(token: Token, scope: str) -> None:
    if scope not in token.scope.split():
        raise InsufficientScope(f"this call needs the scope {scope}", scope)

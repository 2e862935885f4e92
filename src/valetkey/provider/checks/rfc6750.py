"""Bearer-token use at the resource server and userinfo (RFC 6750, RFC 9068 §4)."""

from __future__ import annotations

import re

from valetkey.oauth.scope import Scope
from valetkey.provider.checks.rfc9449 import request_url, verify_proof
from valetkey.provider.core import Provider
from valetkey.provider.errors import (
    InsufficientScope,
    InvalidDpopProof,
    InvalidRequest,
    InvalidToken,
    MissingToken,
    ResourceDpopError,
)
from valetkey.provider.http import Request
from valetkey.provider.store.records import Token
from valetkey.provider.tokens import TokenFormatError, token_id

TOKEN68 = re.compile(r"[A-Za-z0-9\-._~+/]+=*")


def bearer_value(request: Request) -> str:
    """The token from the Authorization header; never from the URL (RFC 6750 §2.3; AS-30).
    The scheme is Bearer, or DPoP for a DPoP-bound token (checked by `check_binding`)."""
    if "access_token" in {name for name, _ in request.query.pairs}:
        raise InvalidRequest("send the access token in the Authorization header, not the URL")
    if "access_token" in {name for name, _ in request.form.pairs}:
        raise InvalidRequest("send the access token in the Authorization header")
    header = request.headers.get("authorization")
    if header is None:
        raise MissingToken("an access token is required")
    scheme, _, value = header.partition(" ")
    value = value.strip()
    if scheme.lower() not in ("bearer", "dpop") or not TOKEN68.fullmatch(value):
        raise InvalidRequest("use the Bearer scheme: Authorization: Bearer <token>")
    return value


def check_binding(provider: Provider, request: Request, token: Token, value: str) -> None:
    """A DPoP-bound token needs the DPoP scheme and a proof by its key (RFC 9449 §7)."""
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
    url = request_url(provider.origin, request)
    try:
        jkt = verify_proof(
            proof,
            request.method,
            url,
            provider.clock.now(),
            provider.dpop_replay,
            access_token=value,
        )
    except InvalidDpopProof as exc:
        raise ResourceDpopError(exc.description) from None
    if jkt != token.jkt:
        raise ResourceDpopError("the DPoP proof is signed by another key than the token's")


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
    if scope not in Scope.lenient(token.scope):
        raise InsufficientScope(f"this call needs the scope {scope}", scope)

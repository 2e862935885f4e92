"""The resource server on the same origin: the photos API and the user's profile.

Errors follow RFC 6750 §3: 401 with a `WWW-Authenticate: Bearer` challenge for a missing,
invalid, expired or revoked token; 403 with `insufficient_scope` and the scope needed.
"""

from __future__ import annotations

from collections.abc import Callable

from valetkey.oauth.bearer_challenge import quoted_param
from valetkey.oauth.redaction import fingerprint
from valetkey.oauth.scope import Scope
from valetkey.oauth.vocabulary import CLIENT, RESOURCE_SERVER
from valetkey.provider.checks import BearerContext, CheckResult
from valetkey.provider.checks.rfc6750 import BEARER_CHECKS, presented_value
from valetkey.provider.core import Provider
from valetkey.provider.demo_data import photos_for
from valetkey.provider.errors import InsufficientScope, InvalidDpopProof, MissingToken, OAuthError
from valetkey.provider.http import Request, Response, json_response
from valetkey.provider.store.records import Token
from valetkey.provider.tokens import TokenFormatError, token_id


def bearer_error(exc: OAuthError) -> Response:
    scheme = "DPoP" if isinstance(exc, InvalidDpopProof) else "Bearer"
    challenge = f'{scheme} realm="valetkey"'
    if not isinstance(exc, MissingToken):
        description = quoted_param(exc.description.replace('"', "'"))
        challenge += f', error="{exc.error}", error_description="{description}"'
    if isinstance(exc, InsufficientScope):
        challenge += f', scope="{quoted_param(exc.scope)}"'
    body = {} if isinstance(exc, MissingToken) else exc.body()
    return json_response(body, exc.status, [("www-authenticate", challenge)])


def load(provider: Provider, request: Request, scope: str | None) -> BearerContext:
    """The stored token behind the presented value, looked up before the checks run."""
    ctx = BearerContext(request, provider.clock.now(), provider.dpop, scope)
    value = presented_value(request)
    if value is not None:
        try:
            ctx.found = provider.store.token(token_id(provider.keys, value))
        except TokenFormatError:
            ctx.found = None
    return ctx


def protected(
    provider: Provider, request: Request, scope: str | None, serve: Callable[[Token], Response]
) -> Response:
    ctx = load(provider, request, scope)
    results: list[CheckResult] = []
    try:
        provider.table(BEARER_CHECKS).run(ctx, results)
    except OAuthError as exc:
        _record(provider, ctx, results, exc)
        return bearer_error(exc)
    _record(provider, ctx, results, None)
    assert ctx.token is not None
    return serve(ctx.token)


def _record(
    provider: Provider, ctx: BearerContext, results: list[CheckResult], exc: OAuthError | None
) -> None:
    request, token, value = ctx.request, ctx.token, ctx.value
    if provider.probe is not None:  # LAB probe-mode: the probe sees every resource call
        provider.probe.record(
            endpoint="resource",
            path=request.path,
            client_id=token.client_id if token is not None else None,
            status=exc.status if exc else 200,
            access_token=fingerprint(value) if value else None,
        )
    if token is None or token.grant_id is None:
        return
    grant = provider.store.grant(token.grant_id)
    if grant is None or grant.flow_id is None:
        return
    provider.flows.record(
        grant.flow_id,
        "api_call",
        (CLIENT, RESOURCE_SERVER, "back"),
        f"The app calls {request.path} with the access token in the Authorization header.",
        {"path": request.path, "access_token": value},
        results,
    )


def photos(provider: Provider, request: Request) -> Response:
    def serve(token: Token) -> Response:
        user = provider.store.user_by_id(token.user_id) if token.user_id is not None else None
        if user is None:
            return json_response({"photos": []})
        return json_response({"owner": user.username, "photos": photos_for(user.username)})

    return protected(provider, request, "photos.read", serve)


def api_user(provider: Provider, request: Request) -> Response:
    def serve(token: Token) -> Response:
        user = provider.store.user_by_id(token.user_id) if token.user_id is not None else None
        if user is None:
            return json_response({"client_id": token.client_id, "scope": token.scope})
        profile = {"sub": user.sub, "username": user.username}
        if "profile" in Scope.lenient(token.scope):
            profile["name"] = str(user.claims.get("name", user.username))
        return json_response(profile)

    return protected(provider, request, None, serve)

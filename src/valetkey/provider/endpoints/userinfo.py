"""The UserInfo endpoint (OIDC Core §5.3): claims for the token's user, by its scopes."""

from __future__ import annotations

from valetkey.oauth.scope import Scope
from valetkey.provider.core import Provider
from valetkey.provider.endpoints.resource import bearer_error, protected
from valetkey.provider.errors import InvalidToken
from valetkey.provider.grants import user_claims
from valetkey.provider.http import Request, Response, json_response
from valetkey.provider.store.records import Token


def userinfo(provider: Provider, request: Request) -> Response:
    def serve(token: Token) -> Response:
        user = provider.store.user_by_id(token.user_id) if token.user_id is not None else None
        if user is None:
            return bearer_error(InvalidToken("the token's user no longer exists"))
        return json_response(user_claims(user, Scope.lenient(token.scope)))

    return protected(provider, request, "openid", serve)

"""GitHub-shaped endpoints, so the reference client's GitHub profile runs offline.

`/login/oauth/authorize` is the authorization endpoint with `response_type=code` implied;
`/login/oauth/access_token` is the token endpoint with `grant_type=authorization_code`
implied, answering form-encoded unless the client asks for JSON, as GitHub does; `/user`
returns a GitHub-style profile for the token's user. The checks are the sandbox's own.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import replace
from urllib.parse import urlencode

from valetkey.provider.core import Provider
from valetkey.provider.endpoints.authorize import authorize
from valetkey.provider.endpoints.resource import protected
from valetkey.provider.endpoints.token import token
from valetkey.provider.http import Params, Request, Response, json_response
from valetkey.provider.store.records import Token


def _with_default(params: Params, name: str, value: str) -> Params:
    if params.get(name) is not None:
        return params
    return Params((*params.pairs, (name, value)))


def github_authorize(provider: Provider, request: Request) -> Response:
    query = _with_default(request.query, "response_type", "code")
    return authorize(provider, replace(request, query=query))


def github_access_token(provider: Provider, request: Request) -> Response:
    form = _with_default(request.form, "grant_type", "authorization_code")
    response = token(provider, replace(request, form=form))
    if "application/json" in request.headers.get("accept", ""):
        return response
    body = json.loads(response.body)
    encoded = urlencode({k: str(v) for k, v in body.items()}).encode()
    headers = [(k, v) for k, v in response.headers if k != "content-type"]
    return Response(
        response.status, encoded, [("content-type", "application/x-www-form-urlencoded"), *headers]
    )


def github_user(provider: Provider, request: Request) -> Response:
    def serve(access: Token) -> Response:
        user = provider.store.user_by_id(access.user_id) if access.user_id is not None else None
        if user is None:
            return json_response({"message": "Requires authentication"}, 401)
        numeric = int(hashlib.sha256(user.sub.encode()).hexdigest()[:8], 16)
        return json_response(
            {
                "login": user.username,
                "id": numeric,
                "node_id": f"U_{user.sub[:12]}",
                "name": user.claims.get("name"),
                "email": user.claims.get("email"),
                "type": "User",
                "html_url": f"{provider.issuer}/users/{user.username}",
            }
        )

    return protected(provider, request, None, serve)

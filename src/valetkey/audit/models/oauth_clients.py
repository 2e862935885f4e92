"""OAuth client libraries and JOSE: token exchanges answer with token responses, Authlib's
framework registry hands out provider apps, JWT decoders answer with claims (unverified
ones with their mark), and fields of OAuth responses keep their names."""

from __future__ import annotations

import ast

from valetkey.audit import libraries as lib
from valetkey.audit.index import Scope
from valetkey.audit.interpreter import Interpreter, Item, Semantics, origin_value
from valetkey.audit.models.python import constructor
from valetkey.audit.values import Kind, Value, literal, taint

_DECODERS = lib.PYJWT_DECODE | lib.JOSE_DECODE | lib.JOSERFC_DECODE | lib.AUTHLIB_JOSE_DECODE


def register(table: Semantics) -> None:
    table.function(*_DECODERS)(_jwt_decode)
    table.function(*lib.JOSE_UNVERIFIED)(_unverified)
    table.function_matching(_httpx_oauth_client)(constructor(lib.HTTPX_OAUTH_CLIENT))
    table.methods.append(_client_method)
    table.attributes.append(_registry_attribute)
    table.item_fallbacks.append(_response_field)


def _httpx_oauth_client(qual: str) -> bool:
    return qual.startswith("httpx_oauth.clients.") or qual in (
        "httpx_oauth.oauth2.OAuth2",
        "httpx_oauth.oauth2.BaseOAuth2",
    )


def _jwt_decode(interp: Interpreter, qual: str, call: ast.Call, scope: Scope) -> Value:
    token = interp.eval(call.args[0], scope) if call.args else Value()
    kept = frozenset(o for o in token.origins if o.kind not in (Kind.FIELD, Kind.TOKEN))
    return Value(origins=kept | origin_value(Kind.CLAIMS, call).origins)


def _unverified(interp: Interpreter, qual: str, call: ast.Call, scope: Scope) -> Value:
    token = taint(interp.call_args(call, scope))
    return Value(origins=token.origins | origin_value(Kind.UNVERIFIED, call).origins)


def _client_method(
    interp: Interpreter, receiver: Value, method: str, call: ast.Call, scope: Scope
) -> Value | None:
    rtype = receiver.type
    if rtype is not None and (rtype, method) in lib.TOKEN_EXCHANGES | lib.TOKEN_GRANTS:
        return origin_value(Kind.TOKEN, call)
    if rtype == lib.AUTHLIB_REGISTRY and method in ("register", "create_client"):
        return Value(type=lib.AUTHLIB_APP, ctor=call)
    if rtype == lib.AUTHLIB_APP and method in ("userinfo", "parse_id_token"):
        return origin_value(Kind.CLAIMS, call)
    if rtype == lib.OAUTHLIB_CLIENT:
        return _oauthlib_method(interp, method, call, scope)
    return None


_OAUTHLIB_GRANTS = {
    "prepare_token_request": "authorization_code",
    "prepare_refresh_token_request": "refresh_token",
}


def _oauthlib_method(
    interp: Interpreter, method: str, call: ast.Call, scope: Scope
) -> Value | None:
    """oauthlib builds requests and sends nothing: `prepare_token_request(token_url, ...)`
    answers (url, headers, body) for the caller to send."""
    grant = _OAUTHLIB_GRANTS.get(method)
    if grant is None or not call.args:
        return None
    url = interp.eval(call.args[0], scope)
    fields = interp.keyword_fields(call.keywords, scope)
    body = Value(
        keys=(("grant_type", literal(grant, call)), *fields.keys),
        origins=fields.origins,
    )
    return Value(origins=url.origins, elements=(url, Value(), body))


def _registry_attribute(
    interp: Interpreter, base: Value, attr: str, node: ast.AST, scope: Scope
) -> Value | None:
    if base.type == lib.AUTHLIB_REGISTRY:
        return Value(type=lib.AUTHLIB_APP)
    if base.type == lib.OAUTHLIB_CLIENT and attr in ("token", "access_token", "refresh_token"):
        return origin_value(Kind.TOKEN, node)  # set by parse_request_body_response
    if base.type == lib.JWCRYPTO_TOKEN and attr in ("claims", "objects", "payload", "token"):
        return origin_value(Kind.CLAIMS, node)  # what the token says (verified or not)
    return None


def _response_field(interp: Interpreter, item: Item) -> Value | None:
    key = item.key
    if key is None:
        return None
    if key not in lib.TOKEN_KEYS and not item.base.has(
        Kind.TOKEN, Kind.OAUTH_DATA, Kind.CLAIMS, Kind.FIELD
    ):
        return None
    field = origin_value(Kind.FIELD, item.node, key)
    outer = frozenset(o for o in item.base.origins if o.kind is not Kind.FIELD)
    return item.with_default(Value(origins=outer | field.origins))

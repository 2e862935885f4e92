"""HTTP clients (requests, httpx, and the OAuth sessions built on them): their calls answer
with a response whose body is OAuth data, or a token response when the call redeems a
grant."""

from __future__ import annotations

import ast

from valetkey.audit import libraries as lib
from valetkey.audit.index import Scope
from valetkey.audit.interpreter import Interpreter, Semantics, origin_value
from valetkey.audit.oauth import client_type, is_token_request
from valetkey.audit.values import EMPTY, Kind, Value


def register(table: Semantics) -> None:
    table.function_matching(_is_http)(_http)
    table.methods.append(_client_method)
    table.attributes.append(_response_attribute)


def _is_http(qual: str) -> bool:
    head, _, tail = qual.rpartition(".")
    return head in lib.HTTP_MODULES and tail in lib.HTTP_METHODS


def _http(interp: Interpreter, qual: str, call: ast.Call, scope: Scope) -> Value:
    return http_response(interp, call, scope, qual.rsplit(".", 1)[1])


def http_response(interp: Interpreter, call: ast.Call, scope: Scope, method: str) -> Value:
    kind = Kind.TOKEN if is_token_request(interp, call, scope, method) else Kind.OAUTH_DATA
    return Value(type=lib.HTTP_RESPONSE, origins=origin_value(kind, call).origins)


def _client_method(
    interp: Interpreter, receiver: Value, method: str, call: ast.Call, scope: Scope
) -> Value | None:
    if client_type(interp, receiver.type) in lib.HTTP_CLIENTS and method in lib.HTTP_METHODS:
        return http_response(interp, call, scope, method)
    if receiver.type == lib.HTTP_RESPONSE and method == "json":
        return Value(origins=receiver.origins)
    return None


def _response_attribute(
    interp: Interpreter, base: Value, attr: str, node: ast.AST, scope: Scope
) -> Value | None:
    if base.type == lib.HTTP_RESPONSE:
        # the body carries the data; status, headers, reason ... do not
        return Value(origins=base.origins) if attr in ("text", "content") else EMPTY
    if attr in lib.RESPONSE_META_ATTRS and base.key(attr) is None:
        return EMPTY
    return None

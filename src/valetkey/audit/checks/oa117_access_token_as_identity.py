"""OA117 access-token-as-identity."""

from __future__ import annotations

import ast
from collections.abc import Iterator

from valetkey.audit import frameworks as fw
from valetkey.audit import libraries as lib
from valetkey.audit.analysis import Analysis
from valetkey.audit.index import FuncNode, Scope, argument, kwarg
from valetkey.audit.oauth import http_calls, is_back_channel, is_token_request
from valetkey.audit.registry import AuditConfig, Hit, check
from valetkey.audit.values import Kind, Value

_OUTSIDE = (Kind.REQUEST, Kind.HEADER, Kind.COOKIE)


@check("OA117")
def access_token_as_identity(module: Analysis, config: AuditConfig) -> Iterator[Hit]:
    """Flags: in a function that establishes who the user is (writes the session, calls
    Flask-Login's `login_user` or Django's `login`, issues the app's own token with DRF,
    Simple JWT, Knox or flask-jwt-extended, is a FastAPI `Depends` dependency or an
    `authenticate` backend method), or in a helper such a function calls, a userinfo/API
    call (requests, httpx, an OAuth session, Authlib's `userinfo(token=...)`) is made with an
    access token taken from the incoming request (body, query, header or cookie). The token
    could have been issued to any client, so it proves nothing about who is using this one.

    Also an API that sets the request's user (`g.user`, `request.state.user`) that way.

    Silent: the code exchange itself; calls made with a token the app obtained from a
    token endpoint (its own exchange, MSAL, Authlib, requests-oauthlib), even when request
    data went into that exchange; and a function that compares the token's audience
    (`aud`, `azp`, Facebook's `app_id`) from tokeninfo or introspection.
    """
    for http in http_calls(module):
        func = module.enclosing_function(http.call)
        if func is None or not is_back_channel(module, http):
            continue
        if is_token_request(module, http.call, http.scope, http.method):
            continue  # redeeming a code (or a refresh token) is this app's own exchange
        if (
            _token_from_outside(module, http.call, http.scope)
            and _identifies(module, func)
            and not _audience_checked(module, func)
        ):
            yield Hit.at(http.call, "a user is identified by an access token from the request")
    for node in module.nodes if module.uses("authlib") else ():
        if isinstance(node, ast.Call):
            scope = module.scope_of(node)
            callee = module.resolve(node, scope)
            func = module.enclosing_function(node)
            if (callee.receiver_type, callee.method) == (lib.AUTHLIB_APP, "userinfo") and (
                func is not None
                and _token_from_outside(module, node, scope)
                and _identifies(module, func)
            ):
                yield Hit.at(node, "a user is identified by an access token from the request")


def _token_from_outside(module: Analysis, call: ast.Call, scope: Scope) -> bool:
    """Is the access token this call presents one the request brought (and not one this
    app obtained from a token endpoint itself)?"""
    values: list[Value] = []
    headers = kwarg(call, "headers")
    if headers is not None:
        header_value = module.eval(headers, scope)
        auth = header_value.key("Authorization") or header_value.key("authorization")
        if auth is not None:
            values.append(auth)
    params = kwarg(call, "params")
    if params is not None:
        token = module.eval(params, scope).key("access_token")
        values.extend([token] if token is not None else [])
    for name in ("token", "auth"):
        node = kwarg(call, name)
        if node is not None:
            values.append(module.eval(node, scope))
    url = argument(call, 0, "url")
    if url is not None:
        in_url = module.eval(url, scope).key("access_token")
        values.extend([in_url] if in_url is not None else [])
    return any(v.has(*_OUTSIDE) and not _obtained_here(v) for v in values)


def _obtained_here(value: Value) -> bool:
    return any(o.kind is Kind.TOKEN and not o.derived for o in value.origins)


def _identifies(module: Analysis, func: FuncNode, depth: int = 0) -> bool:
    """Does this function (or, for a helper, a function that calls it) sign the user in or
    hand out who the user is: a session write, a framework login, the app's own token, an
    account looked up, or an authentication dependency or backend?"""
    if _logs_in(module, func) or _is_auth_hook(module, func):
        return True
    if depth >= 2:
        return False
    return any(
        _identifies(module, caller, depth + 1)
        for _call, caller_scope in module.call_sites.get(id(func), [])
        if isinstance(caller := caller_scope.node, ast.FunctionDef | ast.AsyncFunctionDef)
    )


_AUDIENCE_FIELDS = frozenset(
    {"aud", "azp", "audience", "client_id", "app_id", "issued_to", "appid"}
)


def _audience_checked(module: Analysis, func: FuncNode) -> bool:
    """The token's audience is compared (`info["aud"] != CLIENT_ID` after tokeninfo,
    `data["app_id"]` after Facebook's debug_token): the token was issued to this app."""
    for node in module.own_nodes(func):
        if not isinstance(node, ast.Compare | ast.Call):
            continue
        scope = module.scope_of(node)
        operands = (
            [node.left, *node.comparators]
            if isinstance(node, ast.Compare)
            else [*node.args, *(k.value for k in node.keywords)]
        )
        if isinstance(node, ast.Call) and module.resolve(node, scope).qualname not in (
            lib.CONSTANT_TIME_COMPARE
        ):
            continue
        for operand in operands:
            if module.eval(operand, scope).field_keys() & _AUDIENCE_FIELDS:
                return True
    return False


def _is_auth_hook(module: Analysis, func: FuncNode) -> bool:
    """A FastAPI dependency (`Depends(func)`), or an `authenticate` method (Django
    authentication backends, DRF authentication classes)."""
    if func.name == "authenticate" and module.func_class.get(id(func)) is not None:
        return True
    for node in module.nodes:
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name | ast.Attribute)
            and (node.func.id if isinstance(node.func, ast.Name) else node.func.attr)
            in ("Depends", "Security")
            and node.args
            and isinstance(node.args[0], ast.Name)
            and node.args[0].id == func.name
        ):
            return True
    return False


def _logs_in(module: Analysis, func: FuncNode) -> bool:
    scope = module.scopes[id(func)]
    for node in module.own_nodes(func):
        if isinstance(node, ast.Assign) and any(
            (isinstance(t, ast.Subscript) and module.eval(t.value, scope).type == fw.SESSION)
            or _request_user(module, t, scope)
            for t in node.targets
        ):
            return True
        if isinstance(node, ast.Call) and _signs_in(module, node, scope):
            return True
    return False


def _request_user(module: Analysis, target: ast.expr, scope: Scope) -> bool:
    """`g.user = ...` (Flask), `request.state.user = ...` (Starlette), `request.user = ...`,
    `request.ctx.user = ...` (Sanic): the request is now this user's."""
    if not (isinstance(target, ast.Attribute) and target.attr in _USER_ATTRS):
        return False
    holder = target.value
    if module.qualname_of(holder) in ("flask.g", "quart.g"):
        return True
    if isinstance(holder, ast.Attribute) and holder.attr in ("state", "ctx"):
        holder = holder.value
    return module.eval(holder, scope).type == fw.REQUEST


# Signing the app's own session token for the user is a sign-in, for an API.
_JWT_ENCODERS = frozenset(
    {"jwt.encode", "jose.jwt.encode", "joserfc.jwt.encode", "authlib.jose.jwt.encode"}
)
_USER_ATTRS = frozenset({"user", "current_user", "account", "identity", "principal"})


def _signs_in(module: Analysis, call: ast.Call, scope: Scope, depth: int = 0) -> bool:
    callee = module.resolve(call, scope)
    qual = callee.qualname or ""
    if qual in fw.LOGIN_CALLS or qual in fw.OWN_TOKEN_ISSUERS or qual in _JWT_ENCODERS:
        return True
    if callee.local is not None and depth < 1:  # a helper that issues the app's token
        inner = module.scopes[id(callee.local)]
        return any(
            isinstance(node, ast.Call) and _signs_in(module, node, inner, depth + 1)
            for node in module.own_nodes(callee.local)
        )
    return qual.endswith(fw.OWN_TOKEN_METHODS) and qual.startswith(fw.OWN_TOKEN_PACKAGES)

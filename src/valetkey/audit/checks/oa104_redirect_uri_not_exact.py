"""OA104 redirect-uri-not-exact."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import replace

from valetkey.audit import libraries as lib
from valetkey.audit.analysis import Analysis
from valetkey.audit.index import FuncNode, Scope
from valetkey.audit.oauth import is_plain_http_remote, placements, stops
from valetkey.audit.registry import AuditConfig, Hit, check
from valetkey.audit.values import Kind, Origin, Value

from ._helpers import first_line


@check("OA104")
def redirect_uri_not_exact(module: Analysis, config: AuditConfig) -> Iterator[Hit]:
    """Flags: the value sent as `redirect_uri` (a key of an OAuth request dict or URL, a keyword
    of an OAuth call, the first argument of Authlib's `authorize_redirect`, or an entry of
    the `redirect_uris` of client metadata to register) is derived from the incoming
    request (`request.host`, `url_root`, the `Host` or `X-Forwarded-Host` header, query
    parameters, cookies), contains a `*` wildcard, or is plain `http://` to a host other
    than loopback. The finding is on the line where that value is made.

    Silent: the frameworks' own URL builders (Flask `url_for(..., _external=True)`,
    Starlette `request.url_for`, Django `build_absolute_uri(reverse(...))`), which follow the
    deployment's configured host handling; and a route parameter the function only accepts
    as a key of a module mapping (`PROVIDERS.get(name) or abort(404)`).
    """
    for value, node, client_request in _redirect_uris(module):
        problem = _problem(_unconstrained(module, value, node), client_request)
        if problem is not None:
            line, col, message = problem
            yield Hit(line or int(getattr(node, "lineno", 1)), col, message)


def _redirect_uris(module: Analysis) -> Iterator[tuple[Value, ast.AST, bool]]:
    """Redirect URIs the module sends, and whether in a request of its own as a client (an
    authorization or token request, or Authlib's authorize_redirect)."""
    for p in placements(module):
        if p.key == "redirect_uri" and p.oauth:
            yield p.value, p.node, bool(p.container_keys & _CLIENT_REQUEST_KEYS)
        elif p.key == "redirect_uris":  # client metadata to register (RFC 7591 §2)
            for item in p.value.elements or ():
                yield item, p.node, False
    for node in module.nodes if module.uses("authlib") else ():
        if isinstance(node, ast.Call) and node.args:
            scope: Scope = module.scope_of(node)
            callee = module.resolve(node, scope)
            if (callee.receiver_type, callee.method) == (lib.AUTHLIB_APP, "authorize_redirect"):
                yield module.eval(node.args[0], scope), node, True


def _unconstrained(module: Analysis, value: Value, node: ast.AST) -> Value:
    """Drop route parameters the function only accepts as keys of a mapping of the module
    (`PROVIDERS.get(name) or abort(404)`, `if name not in PROVIDERS: abort(404)`): they can
    only be one of the keys the code lists."""
    func = module.enclosing_function(node)
    if func is None:
        return value
    keep = frozenset(
        o
        for o in value.origins
        if not (o.kind is Kind.REQUEST and o.key and _constrained(module, func, o.key))
    )
    return replace(value, origins=keep)


def _constrained(module: Analysis, func: FuncNode, name: str) -> bool:
    if not module.is_route(func) or not any(a.arg == name for a in func.args.args):
        return False
    scope = module.scopes[id(func)]
    for node in module.own_nodes(func):
        if isinstance(node, ast.Subscript) and _lookup_of(module, node, name):
            return True  # `PROVIDERS[name]`: any other name fails there
        if isinstance(node, ast.BoolOp) and isinstance(node.op, ast.Or) and len(node.values) == 2:
            first, fallback = node.values
            if _lookup_of(module, first, name) and _stops_call(module, fallback, scope):
                return True
        if (
            isinstance(node, ast.If)
            and (
                _not_in_test(module, node.test, name)
                or _compared_with_session(module, node.test, name, scope)
            )
            and stops(node.body, module, scope)
        ):
            return True
    return False


def _compared_with_session(module: Analysis, test: ast.expr, name: str, scope: Scope) -> bool:
    """`pending["idp"] != idp` (or inside `not pending or ...`): the parameter must be the
    provider this browser's sign-in started with."""
    for node in ast.walk(test):
        if isinstance(node, ast.Compare) and len(node.ops) == 1:
            sides = [node.left, node.comparators[0]]
            named = any(isinstance(s, ast.Name) and s.id == name for s in sides)
            stored = any(module.eval(s, scope).has(Kind.SESSION) for s in sides)
            if named and stored and isinstance(node.ops[0], ast.NotEq | ast.IsNot):
                return True
    return False


def _lookup_of(module: Analysis, node: ast.expr, name: str) -> bool:
    """`MAPPING.get(name)` or `MAPPING[name]` on a module-level mapping."""
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
        target, args = node.func.value, node.args
        if node.func.attr != "get":
            return False
    elif isinstance(node, ast.Subscript):
        target, args = node.value, [node.slice]
    else:
        return False
    return (
        isinstance(target, ast.Name)
        and target.id in module.module_scope.bindings
        and bool(args)
        and isinstance(args[0], ast.Name)
        and args[0].id == name
    )


def _stops_call(module: Analysis, node: ast.expr, scope: Scope) -> bool:
    return isinstance(node, ast.Call) and stops([ast.Expr(value=node)], module, scope)


def _not_in_test(module: Analysis, test: ast.expr, name: str) -> bool:
    return (
        isinstance(test, ast.Compare)
        and len(test.ops) == 1
        and isinstance(test.ops[0], ast.NotIn)
        and isinstance(test.left, ast.Name)
        and test.left.id == name
        and isinstance(test.comparators[0], ast.Name)
        and test.comparators[0].id in module.module_scope.bindings
    )


_CLIENT_REQUEST_KEYS = frozenset({"client_id", "response_type", "grant_type", "code"})


def _request_data(value: Value, client_request: bool) -> Origin | None:
    """A named request parameter, a header or a cookie; a `redirect_uri` parameter only
    when the module sends it on as a client (a provider receives one legitimately)."""
    passed_on = (None,) if client_request else (None, "redirect_uri")
    found = sorted(
        (
            o
            for o in value.origins
            if o.kind in (Kind.HEADER, Kind.COOKIE)
            or (o.kind is Kind.REQUEST and o.key not in passed_on)
        ),
        key=lambda o: (o.line, o.col),
    )
    return found[0] if found else None


_URL_BUILDERS = frozenset({"url_for", "build_absolute_uri"})


def _problem(value: Value, client_request: bool) -> tuple[int, int, str] | None:
    value = replace(
        value,
        origins=frozenset(
            o for o in value.origins if not (o.kind is Kind.HOST and o.key in _URL_BUILDERS)
        ),
    )
    host = first_line(value, Kind.HOST)
    if host is not None:
        return host.line, host.col, "`redirect_uri` is built from the request's host"
    data = _request_data(value, client_request)
    if data is not None:
        return data.line, data.col, "`redirect_uri` comes from request data"
    text = value.text if value.text is not None else "".join(value.fragments[:1])
    literal = first_line(value, Kind.LITERAL)
    line, col = (literal.line, literal.col) if literal else (0, 0)
    if "*" in text:
        return line, col, "`redirect_uri` contains a wildcard"
    if is_plain_http_remote(text):
        return line, col, "`redirect_uri` is plain http to a non-loopback host"
    return None

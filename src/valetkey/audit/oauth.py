"""OAuth protocol knowledge on top of the data flow: where parameters are set, which calls
are token requests or other back-channel OAuth traffic, which functions are callbacks, and
whether a branch stops the flow."""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from dataclasses import dataclass, replace
from urllib.parse import urlsplit

from valetkey.audit import frameworks as fw
from valetkey.audit import libraries as lib
from valetkey.audit.index import FuncNode, Scope, argument, kwarg
from valetkey.audit.interpreter import Interpreter
from valetkey.audit.values import (
    Kind,
    Value,
    const_str,
    query_keys,
)


@dataclass(frozen=True)
class Placement:
    """An OAuth parameter (`key`) set to `value` in a dict, a call or a URL."""

    key: str
    value: Value
    node: ast.AST
    container: ast.AST
    container_keys: frozenset[str]
    oauth: bool
    scope: Scope
    # the container's keys may be more than `container_keys` (a spread of unknown keys)
    container_open: bool = False


def placements(module: Interpreter) -> list[Placement]:
    return module.memo("oauth.placements", lambda: list(_placements(module)))


def _placements(module: Interpreter) -> Iterator[Placement]:
    for node in module.nodes:
        if isinstance(node, ast.Dict):
            yield from _dict_placements(module, node)
        elif isinstance(node, ast.Call):
            yield from _call_placements(module, node)
        elif isinstance(node, ast.Constant):
            if isinstance(node.value, str) and "=" in node.value and _is_max_string(module, node):
                yield from _string_placements(module, node)
        elif isinstance(node, ast.JoinedStr | ast.BinOp) and _is_max_string(module, node):
            yield from _string_placements(module, node)
        elif isinstance(node, ast.Assign):
            yield from _subscript_placements(module, node)


def _container_keys(
    module: Interpreter, node: ast.expr, scope: Scope
) -> tuple[frozenset[str], bool]:
    """Keys of a dict, including those added later to the name it is assigned to, and
    whether there may be others (a spread of a mapping whose keys are not known)."""
    value = module.eval(node, scope)
    keys = set(value.key_names())
    opened = value.open
    parent = module.parents.get(id(node))
    if isinstance(parent, ast.Assign):
        for target in parent.targets:
            if isinstance(target, ast.Name):
                named = module.eval(target, scope)
                keys |= named.key_names()
                opened = opened or named.open
    return frozenset(keys), opened


def wanted(key: str) -> bool:
    """Is this a parameter some check looks at? (Others are never evaluated.)"""
    return key in lib.PLACEMENT_KEYS or key.endswith("_CLIENT_SECRET")


def _dict_placements(module: Interpreter, node: ast.Dict) -> Iterator[Placement]:
    literal_keys = [
        k.value for k in node.keys if isinstance(k, ast.Constant) and isinstance(k.value, str)
    ]
    if not any(wanted(k) for k in literal_keys):
        return
    scope = module.scope_of(node)
    keys, opened = _container_keys(module, node, scope)
    oauth = bool(keys & lib.OAUTH_MARKER_KEYS) or _in_oauth_call(module, node, scope)
    for k, v in zip(node.keys, node.values, strict=True):
        key = const_str(k) if k is not None else None
        if key is not None and k is not None and wanted(key):
            value = module.eval(v, scope)
            yield Placement(key, value, k, node, keys, oauth, scope, opened)


def _in_oauth_call(module: Interpreter, node: ast.AST, scope: Scope) -> bool:
    """Is this dict an argument of an OAuth call, or nested in an OAuth dict?"""
    outer = module.parents.get(id(node))
    while isinstance(outer, ast.Dict):
        keys = {k.value for k in outer.keys if isinstance(k, ast.Constant)}
        if keys & lib.OAUTH_MARKER_KEYS:
            return True
        outer = module.parents.get(id(outer))
    parent = module.parents.get(id(node))
    if isinstance(parent, ast.keyword):
        parent = module.parents.get(id(parent))
    return isinstance(parent, ast.Call) and is_oauth_callee(module, parent, scope)


def _call_placements(module: Interpreter, node: ast.Call) -> Iterator[Placement]:
    if not any(kw.arg is not None and wanted(kw.arg) for kw in node.keywords):
        return
    scope = module.scope_of(node)
    fields = module.keyword_fields(node.keywords, scope)
    keys = fields.key_names()
    oauth = bool(keys & lib.OAUTH_MARKER_KEYS) or is_oauth_callee(module, node, scope)
    for kw in node.keywords:
        if kw.arg is not None and wanted(kw.arg):
            value = module.eval(kw.value, scope)
            yield Placement(kw.arg, value, kw.value, node, keys, oauth, scope, fields.open)


def is_oauth_callee(module: Interpreter, call: ast.Call, scope: Scope) -> bool:
    callee = module.resolve(call, scope)
    if callee.qualname is not None and callee.qualname.startswith(lib.OAUTH_LIBRARY_PREFIXES):
        return True
    if callee.receiver_type in lib.OAUTH_SESSIONS | {lib.AUTHLIB_REGISTRY}:
        return True
    return (
        callee.method in lib.OAUTH_METHODS
        and callee.receiver_type is None
        and (module.uses("requests_oauthlib", "authlib", "oauthlib", "flask_dance"))
    )


def _is_max_string(module: Interpreter, node: ast.AST) -> bool:
    if isinstance(node, ast.Constant) and not isinstance(node.value, str):
        return False
    if isinstance(node, ast.BinOp) and not isinstance(node.op, ast.Add):
        return False
    parent = module.parents.get(id(node))
    if isinstance(parent, ast.JoinedStr | ast.FormattedValue):
        return False
    return not (isinstance(parent, ast.BinOp) and isinstance(parent.op, ast.Add | ast.Mod))


def _string_placements(module: Interpreter, node: ast.expr) -> Iterator[Placement]:
    if not _names_wanted_parameter(node):
        return
    if isinstance(module.parents.get(id(node)), ast.Expr):
        return  # a docstring or a bare string, not a URL that is used
    scope = module.scope_of(node)
    full = module.eval(node, scope)
    if not full.fragments or not any("=" in f for f in full.fragments):
        return
    if any("\n" in f for f in full.fragments):
        return  # prose, not a URL
    own = query_keys(_own_parts(module, node, scope), node)
    keys = full.key_names() | {k for k, _ in own} | _enclosing_query_keys(module, node, scope)
    oauth = bool(keys & lib.OAUTH_MARKER_KEYS)
    for key, value in own:
        if wanted(key):
            yield Placement(key, value, node, node, frozenset(keys), oauth, scope, full.open)


def _enclosing_query_keys(module: Interpreter, node: ast.expr, scope: Scope) -> frozenset[str]:
    """Parameters of the query string a piece (`"state=..."` in a list joined with `&`) is
    part of."""
    parent = module.parents.get(id(node))
    if not isinstance(parent, ast.List | ast.Tuple):
        return frozenset()
    joined = module.parents.get(id(parent))
    if isinstance(joined, ast.Call):
        return module.eval(joined, scope).key_names()
    return frozenset()


_QUERY_KEY = re.compile(r"([A-Za-z_][A-Za-z0-9_]*)=")


def _names_wanted_parameter(node: ast.expr) -> bool:
    """Does a literal piece of this string set a parameter a check reads (`state=`)?"""
    texts = [
        sub.value
        for sub in ast.walk(node)
        if isinstance(sub, ast.Constant) and isinstance(sub.value, str) and "=" in sub.value
    ]
    return any(wanted(k) for text in texts for k in _QUERY_KEY.findall(text))


def _own_parts(module: Interpreter, node: ast.expr, scope: Scope) -> list[str | Value]:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return [node.value]
    if isinstance(node, ast.JoinedStr):
        parts: list[str | Value] = []
        for part in node.values:
            if isinstance(part, ast.Constant) and isinstance(part.value, str):
                parts.append(part.value)
            elif isinstance(part, ast.FormattedValue):
                parts.append(replace(module.eval(part.value, scope), keys=()))
        return parts
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        return [*_own_parts(module, node.left, scope), *_own_parts(module, node.right, scope)]
    value = module.eval(node, scope)
    if value.text is not None and len(value.origins) <= 1:
        return [value.text]
    return [replace(value, keys=())]


def _subscript_placements(module: Interpreter, node: ast.Assign) -> Iterator[Placement]:
    for target in node.targets:
        if not isinstance(target, ast.Subscript):
            continue
        key = const_str(target.slice)
        if key is None or not wanted(key):
            continue
        scope = module.scope_of(node)
        base = module.eval(target.value, scope)
        if base.type is not None:
            continue
        keys = base.key_names() | {key}
        oauth = bool(keys & lib.OAUTH_MARKER_KEYS)
        value = module.eval(node.value, scope)
        yield Placement(key, value, target, node, keys, oauth, scope, base.open)


# --- HTTP traffic --------------------------------------------------------------------------------
@dataclass(frozen=True)
class HttpCall:
    call: ast.Call
    scope: Scope
    method: str
    client_type: str
    receiver: Value | None


def http_calls(module: Interpreter) -> list[HttpCall]:
    return module.memo("oauth.http_calls", lambda: list(_http_calls(module)))


def _http_calls(module: Interpreter) -> Iterator[HttpCall]:
    if not module.uses(*lib.HTTP_MODULES, "requests_oauthlib", "authlib", "msal"):
        return
    for node in module.nodes:
        if not isinstance(node, ast.Call):
            continue
        if isinstance(node.func, ast.Name):
            yield from _named_http_call(module, node)
            continue
        if not isinstance(node.func, ast.Attribute):
            continue
        scope = module.scope_of(node)
        callee = module.resolve(node, scope)
        method = callee.method or ""
        if callee.qualname is not None:
            head = callee.qualname.rpartition(".")[0]
            if head in lib.HTTP_MODULES and method in lib.HTTP_METHODS:
                yield HttpCall(node, scope, method, head, None)
            continue
        rtype = client_type(module, callee.receiver_type)
        if rtype in lib.HTTP_CLIENTS and method in lib.HTTP_METHODS:
            yield HttpCall(node, scope, method, rtype or "", callee.receiver)
        elif rtype is not None and (rtype, method) in lib.TOKEN_EXCHANGES | {
            (lib.OAUTH2SESSION, "refresh_token"),
            (lib.AUTHLIB_SESSION, "refresh_token"),
        }:
            yield HttpCall(node, scope, method, rtype, callee.receiver)


def _named_http_call(module: Interpreter, node: ast.Call) -> Iterator[HttpCall]:
    """`post(url, ...)` imported from requests, or a `functools.partial` of one (whose
    preset keywords then count as the call's)."""
    assert isinstance(node.func, ast.Name)
    if node.func.id not in module.imports and not module.uses("functools"):
        return
    scope = module.scope_of(node)
    qual = module.resolve(node, scope).qualname or ""
    head, _, method = qual.rpartition(".")
    if head in lib.HTTP_MODULES and method in lib.HTTP_METHODS:
        value = module.eval(node.func, scope)
        partial = value if value.ctor is not None else None
        yield HttpCall(node, scope, method, head, partial)


def call_keyword(http: HttpCall, name: str) -> ast.expr | None:
    """A keyword of the call, or one preset by the `functools.partial` it calls."""
    found = kwarg(http.call, name)
    if found is not None or http.receiver is None or http.receiver.ctor is None:
        return found
    preset = http.receiver.ctor
    qual = (
        preset.func.attr
        if isinstance(preset.func, ast.Attribute)
        else getattr(preset.func, "id", "")
    )
    return kwarg(preset, name) if qual == "partial" else None


def client_type(module: Interpreter, rtype: str | None) -> str | None:
    """The client type of a value: a library client's own, or that of the library client
    a class of the module derives from (`class Api(requests.Session)`)."""
    if rtype is None or not rtype.startswith("<self>."):
        return rtype
    for base in module.library_bases(rtype.split(".", 1)[1]):
        tag = lib.CONSTRUCTORS.get(base)
        if tag in lib.HTTP_CLIENTS:
            return tag
    return rtype


def _payload(module: Interpreter, call: ast.Call, scope: Scope) -> Value:
    names = ("data", "json", "params", "content", "fields", "body")
    parts = [kwarg(call, name) for name in names]
    values = [module.eval(p, scope) for p in parts if p is not None]
    verb_first = isinstance(call.func, ast.Attribute) and call.func.attr in lib.VERB_FIRST_METHODS
    if len(call.args) > (2 if verb_first else 1):
        values.append(module.eval(call.args[2 if verb_first else 1], scope))
    keys = [kv for v in values for kv in v.keys]
    return Value(keys=tuple(keys))


def url_value(module: Interpreter, call: ast.Call, scope: Scope, method: str) -> Value:
    index = 1 if method in lib.VERB_FIRST_METHODS else 0
    node = argument(call, index, "url")
    return module.eval(node, scope) if node is not None else Value()


def is_token_request(module: Interpreter, call: ast.Call, scope: Scope, method: str) -> bool:
    payload = _payload(module, call, scope)
    if "grant_type" in payload.key_names():
        return True
    url = url_value(module, call, scope, method)
    return token_endpoint_path(_path_of(url)) and method in ("post", *lib.VERB_FIRST_METHODS)


_OTHER_GRANTS = frozenset(
    {
        "refresh_token",
        "client_credentials",
        "password",
        "urn:ietf:params:oauth:grant-type:device_code",
    }
)


def is_code_exchange(module: Interpreter, http: HttpCall) -> bool:
    """A token request that redeems an authorization code (not a refresh, client
    credentials or password grant)."""
    if not is_token_request(module, http.call, http.scope, http.method):
        return False
    payload = _payload(module, http.call, http.scope)
    grant = payload.key("grant_type")
    if grant is not None and grant.text in _OTHER_GRANTS:
        return False
    return (
        "code" in payload.key_names()
        or (grant is not None and grant.text == "authorization_code")
        or (grant is None and "refresh_token" not in payload.key_names())
    )


def token_endpoint_path(path: str) -> bool:
    """A token endpoint's path: a segment `token`, `access_token`, `token.oauth2` ...
    (not `tokeninfo`, `introspect` or `revoke`, which are not grants)."""
    segments = path.split("?", 1)[0].lower().split("/")
    return any(s in ("token", "access_token", "tokens") or s.startswith("token.") for s in segments)


def _path_of(url: Value) -> str:
    text = url.all_text().lower()
    if "://" in text:
        text = text.split("://", 1)[1]
        text = text[text.find("/") :] if "/" in text else ""
    return text


def is_back_channel(module: Interpreter, http: HttpCall) -> bool:
    """Is this call OAuth traffic: token, userinfo, JWKS or another provider API call?"""
    if http.client_type in lib.OAUTH_SESSIONS:
        return True
    if is_token_request(module, http.call, http.scope, http.method):
        return True
    url = url_value(module, http.call, http.scope, http.method)
    if url.field_keys() & (lib.ENDPOINT_KEYS | {"token_endpoint", "userinfo_endpoint", "jwks_uri"}):
        return True
    path = _path_of(url)
    if any(word in path for word in lib.BACK_CHANNEL_PATH_WORDS):
        return True
    if set(path.split("?", 1)[0].split("/")) & lib.IDENTITY_PATH_SEGMENTS:
        return True
    payload = _payload(module, http.call, http.scope)
    if payload.key_names() & (lib.TOKEN_KEYS | {"client_secret", "code", "client_id"}):
        return True
    return _carries_token(module, http)


def _carries_token(module: Interpreter, http: HttpCall) -> bool:
    headers = kwarg(http.call, "headers")
    if headers is None:
        return False
    value = module.eval(headers, http.scope)
    auth = value.key("Authorization") or value.key("authorization")
    return auth is not None and (
        auth.has(Kind.TOKEN, Kind.FIELD) or "bearer" in auth.all_text().lower()
    )


def url_host(text: str) -> str | None:
    try:
        host = urlsplit(text).hostname
    except ValueError:
        return None
    return host


def is_plain_http_remote(text: str) -> bool:
    if not text.lower().startswith("http://"):
        return False
    host = url_host(text)
    if host is None or host == "" or "{" in host or "%" in host:
        return False  # the host is filled in at run time: not known here
    return host not in lib.LOOPBACK_HOSTS and not host.startswith("127.") and host != "[::1]"


# --- functions and branches ----------------------------------------------------------------------
def reads_request_key(module: Interpreter, func: FuncNode, key: str) -> ast.AST | None:
    """Where the function reads request parameter `key` (by subscript, `.get`, or as a
    route parameter), if it does."""
    scope = module.scopes[id(func)]
    for node in module.own_nodes(func):
        if isinstance(node, ast.expr) and _reads_key(node, key):
            value = module.eval(node, scope)
            if any(o.kind is Kind.REQUEST and o.key == key for o in value.origins):
                return node
    for param in scope.params:
        if param.arg == key and module.is_route(func):
            return param
    return None


def _reads_key(node: ast.AST, key: str) -> bool:
    """`x["code"]`, `x.get("code")`, `x.pop("code")`, `x.getlist("code")`: the only forms
    that read a named parameter."""
    if isinstance(node, ast.Subscript):
        return const_str(node.slice) == key
    return (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and bool(node.args)
        and const_str(node.args[0]) == key
    )


def token_exchanges(module: Interpreter, func: FuncNode) -> list[ast.Call]:
    """Calls in `func` that redeem a code (directly or through a module function)."""
    cache: dict[int, list[ast.Call]] = module.memo("oauth.exchanges", dict)
    if id(func) in cache:
        return cache[id(func)]
    cache[id(func)] = []
    found = _token_exchanges(module, func)
    cache[id(func)] = found
    return found


def exchanging_functions(module: Interpreter) -> set[int]:
    """Ids of the functions that redeem a code, directly or through module functions
    (computed once: direct exchanges, then their callers up the call graph)."""
    return module.memo("oauth.exchanging", lambda: _exchanging_functions(module))


def _exchanging_functions(module: Interpreter) -> set[int]:
    found: set[int] = set()
    methods = {method for _, method in lib.TOKEN_EXCHANGES}
    candidates = [
        n
        for n in module.nodes
        if isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute) and n.func.attr in methods
    ]
    for node in candidates:
        callee = module.resolve(node, module.scope_of(node))
        if (callee.receiver_type, callee.method) in lib.TOKEN_EXCHANGES:
            found.add(id(module.scope_of(node).node))
    for http in http_calls(module):
        if is_code_exchange(module, http):
            found.add(id(http.scope.node))
    todo = list(found)
    by_id = {id(f): f for f, _ in module.functions()}
    while todo:
        func = by_id.get(todo.pop())
        for _call, caller in module.call_sites.get(id(func), []) if func else []:
            if id(caller.node) not in found:
                found.add(id(caller.node))
                todo.append(id(caller.node))
    return found


def _token_exchanges(module: Interpreter, func: FuncNode) -> list[ast.Call]:
    scope = module.scopes[id(func)]
    found: list[ast.Call] = []
    if id(func) not in exchanging_functions(module):
        return found
    local_methods = {name for _, name in module.methods}
    exchange_methods = {method for _, method in lib.TOKEN_EXCHANGES}
    for node in module.own_nodes(func):
        if not isinstance(node, ast.Call):
            continue
        if isinstance(node.func, ast.Attribute) and not (
            node.func.attr in exchange_methods or node.func.attr in local_methods
        ):
            continue  # neither an exchange nor a call into this module
        callee = module.resolve(node, scope)
        rtype = callee.receiver_type
        if (rtype is not None and (rtype, callee.method) in lib.TOKEN_EXCHANGES) or (
            callee.local is not None
            and token_exchanges(module, callee.local)
            and (callee.local is not func)
        ):
            found.append(node)
    for http in http_calls(module):
        if module.enclosing_function(http.call) is func and is_code_exchange(module, http):
            found.append(http.call)
    return found


def callbacks(module: Interpreter) -> list[FuncNode]:
    """Functions that receive the authorization response and redeem the code."""
    return list(module.memo("oauth.callbacks", lambda: _callbacks(module)))


def _callbacks(module: Interpreter) -> list[FuncNode]:
    if not module.uses(*lib.WEB_AND_OAUTH_PACKAGES):
        return []
    oauth_module = _takes_part(module)
    return [
        func
        for func, _scope in module.functions()
        if (
            reads_request_key(module, func, "code") is not None
            and (oauth_module or _reads_response_parameter(module, func))
        )
        or (
            id(func) in exchanging_functions(module)
            and _may_read_request(module, func)
            and reads_request(module, func)
        )
    ]


def _reads_response_parameter(module: Interpreter, func: FuncNode) -> bool:
    """Besides `code`, the function reads another parameter of an authorization response."""
    return any(
        reads_request_key(module, func, key) is not None
        for key in ("state", "iss", "error_description", "session_state")
    )


def _takes_part(module: Interpreter) -> bool:
    """Reading a `code` parameter makes a callback only in a module that takes part in
    OAuth (an OAuth library, an OAuth request, a token exchange): elsewhere `code` is just
    a parameter (an HTTP status code, a promotion code)."""
    return (
        bool(exchanging_functions(module))
        or any(p.oauth for p in placements(module))
        or module.uses(*lib.OAUTH_PACKAGES)
    )


def _may_read_request(module: Interpreter, func: FuncNode) -> bool:
    """A cheap precondition of `reads_request`: a route, a request proxy named, or a
    parameter (annotated or first) that may be the request."""
    if module.is_route(func) or func.args.args or func.args.posonlyargs:
        return True
    return any(
        isinstance(n, ast.Name) and module.imports.get(n.id) in fw.REQUEST_PROXIES
        for n in module.own_nodes(func)
    )


def reads_request(module: Interpreter, func: FuncNode) -> bool:
    scope = module.scopes[id(func)]
    if module.is_route(func):
        return True
    names = [n for n in module.own_nodes(func) if isinstance(n, ast.Name)]
    return any(module.eval(name, scope).type == fw.REQUEST for name in names)


def stops(body: list[ast.stmt], module: Interpreter, scope: Scope) -> bool:
    """Does this block always end the request (return, raise, abort)?"""
    for stmt in body:
        if isinstance(stmt, ast.Return | ast.Raise):
            return True
        if isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Call):
            callee = module.resolve(stmt.value, scope)
            if callee.qualname in fw.ABORTS or callee.qualname == "abort":
                return True
        if (
            isinstance(stmt, ast.If)
            and stops(stmt.body, module, scope)
            and stops(stmt.orelse, module, scope)
        ):
            return True
    return False


def oauth_module(module: Interpreter) -> bool:
    """Does this file take part in an OAuth flow (for the checklist)?"""
    return any(p.oauth for p in placements(module)) or bool(callbacks(module))

"""Web frameworks: the request and its data, cookies, headers and host; the session and
what the module's routes store in it; framework-injected parameters (FastAPI `Depends`,
`Cookie`, `Header`, route parameters, Django views' `request`); URL builders."""

from __future__ import annotations

import ast
from dataclasses import dataclass, field

from valetkey.audit import frameworks as fw
from valetkey.audit import libraries as lib
from valetkey.audit.index import FuncNode, Scope, default_of, kwarg
from valetkey.audit.interpreter import Interpreter, Item, Semantics, origin_value
from valetkey.audit.values import EMPTY, Kind, Origin, Value, const_str, join, taint

_STORE_METHODS = frozenset({"setdefault", "update", "set_cookie"})
_MAPPING_METHODS = frozenset(
    {"get", "getall", "getone", "getlist", "items", "keys", "values", "pop", "copy", "decode"}
)
Stores = dict[str, list[tuple[ast.expr, Scope]]]


def register(table: Semantics) -> None:
    table.function(*fw.URL_BUILDERS_INTERNAL)(_url_for)
    table.function(*fw.REDIRECTS, *fw.RESPONSE_BODIES)(_response)
    table.function(*fw.SESSION_GETTERS)(_session_getter)
    table.attributes.append(_handler_attribute)
    table.methods.append(_handler_method)
    table.refs.append(_proxy_ref)
    table.attributes.append(_request_attribute)
    table.methods.append(_request_method)
    table.methods.append(_keyed_lookup)
    table.items.append(_request_item)
    table.item_fallbacks.append(_session_keyed)
    table.params.append(_framework_param)
    table.mapping_types.update(
        {fw.SESSION, fw.REQUEST_DATA, fw.REQUEST_COOKIES, fw.REQUEST_HEADERS}
    )


def _proxy_ref(qual: str) -> Value | None:
    if qual in fw.REQUEST_PROXIES:
        return Value(type=fw.REQUEST, ref=qual)
    if qual in fw.SESSION_PROXIES:
        return Value(type=fw.SESSION, ref=qual)
    return None


def _session_getter(interp: Interpreter, qual: str, call: ast.Call, scope: Scope) -> Value:
    return Value(type=fw.SESSION)


def tornado_handler(interp: Interpreter, value: Value) -> bool:
    """An instance of a Tornado `RequestHandler` subclass of the module (its `self`)."""
    if value.type is None or not value.type.startswith("<self>.") or not interp.uses("tornado"):
        return False
    cls = value.type.split(".", 1)[1]
    return any(
        base.rsplit(".", 1)[-1] == "RequestHandler"
        for current in interp.class_and_bases(cls)
        if current in interp.classes
        for base in interp.classes[current].bases
    )


def _handler_attribute(
    interp: Interpreter, base: Value, attr: str, node: ast.AST, scope: Scope
) -> Value | None:
    if attr == "request" and tornado_handler(interp, base):
        return Value(type=fw.REQUEST)
    if base.type == f"{fw.REQUEST}.ctx" and attr == "session":  # Sanic's sanic-session
        return Value(type=fw.SESSION)
    return None


def _handler_method(
    interp: Interpreter, receiver: Value, method: str, call: ast.Call, scope: Scope
) -> Value | None:
    """A Tornado handler reads the request itself: `self.get_argument("state")`,
    `self.get_cookie(...)`, `self.get_signed_cookie(...)`."""
    if not tornado_handler(interp, receiver):
        return None
    return _named_read(interp, method, call, scope)


def _named_read(interp: Interpreter, method: str, call: ast.Call, scope: Scope) -> Value | None:
    """One named parameter, cookie or header read by a method of the request."""
    key = interp.key_text(call.args[0], scope) if call.args else None
    maybe_none = len(call.args) < 2 and not call.keywords
    if method in fw.REQUEST_PARAM_METHODS:
        return origin_value(Kind.REQUEST, call, key, maybe_none=maybe_none)
    if method in fw.SIGNED_COOKIE_METHODS:
        return origin_value(Kind.SESSION, call, key, maybe_none=True)
    if method in fw.REQUEST_COOKIE_METHODS:
        if any(kw.arg == "secret" for kw in call.keywords):  # Bottle's signed cookies
            return origin_value(Kind.SESSION, call, key, maybe_none=True)
        return cookie_read(interp, key, call, True)
    if method in fw.REQUEST_HEADER_METHODS:
        kind = Kind.HOST if key is not None and key.lower() in fw.HOST_HEADERS else Kind.HEADER
        return origin_value(kind, call, key, maybe_none=maybe_none)
    return None


def _response(interp: Interpreter, qual: str, call: ast.Call, scope: Scope) -> Value:
    """A response carries what it is built from (its body, its redirect URL); a body given
    as a mapping keeps its entries."""
    parts = interp.call_args(call, scope)
    fields = interp.keyword_fields(call.keywords, scope)
    body = parts[0].keys if call.args and not isinstance(call.args[0], ast.Starred) else ()
    return Value(origins=taint(parts).origins, keys=(*body, *fields.keys), open=fields.open)


def _url_for(interp: Interpreter, qual: str, call: ast.Call, scope: Scope) -> Value:
    external = kwarg(call, "_external")
    if isinstance(external, ast.Constant) and external.value is True:
        return origin_value(Kind.HOST, call, "url_for")
    return origin_value(Kind.INTERNAL_URL, call)


# --- the request ---------------------------------------------------------------------------------
def _request_attribute(
    interp: Interpreter, base: Value, attr: str, node: ast.AST, scope: Scope
) -> Value | None:
    if base.type == fw.REQUEST or (base.type is None and attr in fw.REQUEST_MARKER_ATTRS):
        return request_attribute(attr, node)
    if base.type == fw.REQUEST_DATA and attr not in _MAPPING_METHODS:
        # Bottle's `request.query.state`: the parameter named by the attribute
        return origin_value(Kind.REQUEST, node, attr, maybe_none=True)
    if base.type is None and attr == "session" and interp.uses("django", "starlette", "fastapi"):
        return Value(type=fw.SESSION)
    return None


def request_attribute(attr: str, node: ast.AST) -> Value:
    if attr in fw.REQUEST_DATA_ATTRS:
        return Value(type=fw.REQUEST_DATA, origins=origin_value(Kind.REQUEST, node).origins)
    if attr in fw.REQUEST_COOKIE_ATTRS:
        return Value(type=fw.REQUEST_COOKIES)
    if attr in fw.REQUEST_HEADER_ATTRS:
        return Value(type=fw.REQUEST_HEADERS)
    if attr in fw.REQUEST_HOST_ATTRS:
        return origin_value(Kind.HOST, node, attr)
    if attr in fw.REQUEST_PATH_ATTRS:
        return origin_value(Kind.INTERNAL_URL, node, attr)
    if attr == "session":
        return Value(type=fw.SESSION)
    if attr in ("ctx", "context", "state"):  # Sanic, Falcon, Starlette per-request data
        return Value(type=f"{fw.REQUEST}.ctx")
    if attr in ("user", "auth"):  # the signed-in user: server-side, bound to the session
        return Value(type=f"{fw.REQUEST}.{attr}", origins=origin_value(Kind.SESSION, node).origins)
    return Value(type=f"{fw.REQUEST}.{attr}")


def _request_method(
    interp: Interpreter, receiver: Value, method: str, call: ast.Call, scope: Scope
) -> Value | None:
    if receiver.type != fw.REQUEST:
        return None
    named = _named_read(interp, method, call, scope)
    if named is not None:
        return named
    if method in fw.REQUEST_HOST_METHODS:
        return origin_value(Kind.HOST, call, method)
    if method in fw.REQUEST_PATH_METHODS:
        return origin_value(Kind.INTERNAL_URL, call, method)
    if method in fw.REQUEST_DATA_METHODS:
        return Value(type=fw.REQUEST_DATA, origins=origin_value(Kind.REQUEST, call).origins)
    return origin_value(Kind.REQUEST, call)


def _request_item(interp: Interpreter, item: Item) -> Value | None:
    btype = item.base.type
    if btype == fw.SESSION:
        return item.with_default(session_read(interp, item.key, item.node, item.maybe_none))
    if btype == fw.REQUEST_COOKIES:
        # read with .get(), the cookie may be absent: every browser without it shares the
        # default, so data looked up by it is not bound to one browser
        absent = item.maybe_none or isinstance(item.node, ast.Call)
        return item.with_default(cookie_read(interp, item.key, item.node, absent))
    if btype == fw.REQUEST_HEADERS and item.key in fw.SESSION_ENVIRON_KEYS:
        return Value(type=fw.SESSION)  # Beaker's session in the WSGI environ
    if btype in (fw.REQUEST_DATA, fw.REQUEST_HEADERS):
        kind = Kind.REQUEST if btype == fw.REQUEST_DATA else Kind.HEADER
        if kind is Kind.HEADER and item.key is not None and item.key.lower() in fw.HOST_HEADERS:
            kind = Kind.HOST
        return item.with_default(
            origin_value(kind, item.node, item.key, maybe_none=item.maybe_none)
        )
    return None


_LOOKUP_METHODS = frozenset(
    {
        "get",
        "getdel",
        "get_and_delete",
        "getex",
        "hget",
        "hgetall",
        "pop",
        "fetch",
        "fetchone",
        "find_one",
        "lookup",
        "load",
        "retrieve",
        "read",
    }
)


def _keyed_lookup(
    interp: Interpreter, receiver: Value, method: str, call: ast.Call, scope: Scope
) -> Value | None:
    """A store (a cache, Redis, a table) read under a key made from the browser's session
    id or a session entry: the entry belongs to that browser."""
    if method not in _LOOKUP_METHODS or not call.args or receiver.type is not None:
        return None
    key = interp.eval(call.args[0], scope)
    if not browser_bound_key(key):
        return None
    found = interp.unknown_call(call, scope, receiver)
    bound = frozenset(o for o in found.origins if o.kind is not Kind.COOKIE)
    return Value(origins=bound | origin_value(Kind.SESSION, call).origins)


def browser_bound_key(key: Value) -> bool:
    """A key only this browser can present: a session entry, or a cookie it must send
    (read without a fallback that every browser without it would share)."""
    if key.has(Kind.SESSION):
        return True
    cookies = key.of(Kind.COOKIE)
    return bool(cookies) and not any(o.maybe_none for o in cookies)


def _session_keyed(interp: Interpreter, item: Item) -> Value | None:
    """An entry of server-side data looked up by a value bound to the browser (a session
    id from a cookie, a session entry) is bound to that browser too, like the session's own
    entries: another browser cannot make this one send its cookie."""
    if item.key_value is None or not browser_bound_key(item.key_value):
        return None
    bound = origin_value(Kind.SESSION, item.node, None, maybe_none=item.maybe_none)
    return item.with_default(join([Value(origins=item.base.origins), bound]))


# --- the session and cookies the module sets ------------------------------------------------------
def session_read(interp: Interpreter, key: str | None, node: ast.AST, maybe_none: bool) -> Value:
    origin = Origin(Kind.SESSION, _line(node), _col(node), key, maybe_none=maybe_none)
    stored = [] if key is None else _stores(interp)[0].get(key, [])
    read = frozenset({origin})
    values = [_as_stored(interp.eval(expr, scope), read) for expr, scope in stored]
    return join([Value(origins=frozenset({origin})), *values])


def _as_stored(value: Value, read: frozenset[Origin]) -> Value:
    """What reading back a stored value gives: its provenance, text and keys (a dict
    stored in the session keeps its entries, each of them now read from the session),
    not the object it was."""
    keys = tuple((k, _as_stored(v, read)) for k, v in value.keys)
    return Value(
        origins=value.origins | read,
        text=value.text,
        fragments=value.fragments,
        keys=keys,
        open=value.open,
    )


def cookie_read(interp: Interpreter, key: str | None, node: ast.AST, maybe_none: bool) -> Value:
    stored = [] if key is None else _stores(interp)[1].get(key, [])
    kind = Kind.SESSION if stored else Kind.COOKIE
    origin = Origin(kind, _line(node), _col(node), key, maybe_none=maybe_none)
    values = [taint([interp.eval(expr, scope)]) for expr, scope in stored]
    return join([Value(origins=frozenset({origin})), *values])


def session_stores(interp: Interpreter) -> Stores:
    """What the module's code stores in the session, by key."""
    return _stores(interp)[0]


@dataclass
class _StoreIndex:
    session: Stores = field(default_factory=dict)
    cookies: Stores = field(default_factory=dict)
    ready: bool = False


def _stores(interp: Interpreter) -> tuple[Stores, Stores]:
    index = interp.memo("web.stores", _StoreIndex)
    if not index.ready:
        index.ready = True  # reads made while indexing see what is known so far
        for node in interp.nodes:
            if isinstance(node, ast.Call):
                _index_call(interp, node, interp.scope_of(node), index.session, index.cookies)
        for node in interp.nodes:
            if isinstance(node, ast.Assign):
                _index_store(interp, node, interp.scope_of(node), index.session)
        interp.forget_values()  # values computed while indexing saw only part of the stores
    return index.session, index.cookies


def _index_call(
    interp: Interpreter, call: ast.Call, scope: Scope, session: Stores, cookies: Stores
) -> None:
    func = call.func
    if not isinstance(func, ast.Attribute) or func.attr not in _STORE_METHODS:
        return
    receiver = interp.eval(func.value, scope)
    if receiver.type == fw.SESSION and func.attr == "setdefault" and len(call.args) == 2:
        key = const_str(call.args[0])
        if key is not None:
            session.setdefault(key, []).append((call.args[1], scope))
    elif receiver.type == fw.SESSION and func.attr == "update":
        for kw in call.keywords:
            if kw.arg:
                session.setdefault(kw.arg, []).append((kw.value, scope))
    elif func.attr == "set_cookie" and len(call.args) >= 2:
        key = interp.key_text(call.args[0], scope)
        if key is not None:
            cookies.setdefault(key, []).append((call.args[1], scope))


def _index_store(interp: Interpreter, stmt: ast.Assign, scope: Scope, session: Stores) -> None:
    for target in stmt.targets:
        if isinstance(target, ast.Subscript):
            key = const_str(target.slice)
            if key is not None and interp.eval(target.value, scope).type == fw.SESSION:
                session.setdefault(key, []).append((stmt.value, scope))


# --- parameters the framework fills in ------------------------------------------------------------
def _framework_param(
    interp: Interpreter, func: FuncNode, param: ast.arg, scope: Scope
) -> Value | None:
    dependency = _dependency(func, param)
    if dependency is not None:
        return _injected(interp, dependency, param, scope)
    annotated = _annotated_type(interp, param)
    if annotated is not None:
        return Value(type=annotated)
    falcon = _falcon_param(interp, param, func)
    if falcon is not None:
        return falcon
    if interp.func_class.get(id(func)) is not None and scope.params.index(param) == 0:
        return None  # `self` of a class-based handler: the interpreter's own
    if interp.is_route(func):
        return _route_param(interp, param, func)
    index = scope.params.index(param)
    if _django_view_request(interp, func, param, index):
        return Value(type=fw.REQUEST)
    return None


def _falcon_param(interp: Interpreter, param: ast.arg, func: FuncNode) -> Value | None:
    """A Falcon responder's `(self, req, resp, ...)`."""
    if not interp.uses("falcon") or not fw.RESPONDER.fullmatch(func.name):
        return None
    positional = [*func.args.posonlyargs, *func.args.args]
    offset = 1 if interp.func_class.get(id(func)) is not None else 0
    if param in positional[offset : offset + 2]:
        first = positional.index(param) == offset
        return Value(type=fw.REQUEST if first else fw.FALCON_RESPONSE)
    return None


def _dependency(func: FuncNode, param: ast.arg) -> ast.expr | None:
    """What `Depends(x)` / `Security(x)` names, as a default or in `Annotated[T, ...]`."""
    candidates: list[ast.expr] = []
    default = default_of(func, param)
    if default is not None:
        candidates.append(default)
    ann = param.annotation
    if isinstance(ann, ast.Subscript) and isinstance(ann.slice, ast.Tuple):
        candidates.extend(ann.slice.elts[1:])
    for node in candidates:
        if isinstance(node, ast.Call) and node.args and _callee_name(node) in fw.DEPENDENCY_MARKERS:
            return node.args[0]
    return None


def _callee_name(call: ast.Call) -> str:
    func = call.func
    return func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")


def _injected(interp: Interpreter, dependency: ast.expr, param: ast.arg, scope: Scope) -> Value:
    """A dependency's value: the credential a security scheme reads from the request, or
    what a module function returns; nothing known otherwise."""
    if isinstance(dependency, ast.Name):
        local = interp.lookup_def(dependency.id, scope)
        if local is not None:
            return interp.returns_of(local, interp.scopes[id(local)])
    target = interp.eval(dependency, scope.parent or scope)
    if target.type == fw.SECURITY_SCHEME:
        return origin_value(Kind.HEADER, param, param.arg)
    return EMPTY


def _annotated_type(interp: Interpreter, param: ast.arg) -> str | None:
    qual = interp.annotation_qualname(param)
    if qual is None:
        return None
    if qual in fw.REQUEST_CLASSES or qual.split(".")[-1] in ("Request", "HttpRequest"):
        return fw.REQUEST
    return lib.CONSTRUCTORS.get(qual)


def _route_param(interp: Interpreter, param: ast.arg, func: FuncNode) -> Value:
    """A parameter the framework fills from the request: a path or query parameter, a
    cookie or header, or a body model (FastAPI/Litestar with a class of the module)."""
    default = default_of(func, param)
    ann = param.annotation
    if isinstance(ann, ast.Name) and ann.id in interp.classes and ann.id not in interp.imports:
        body = origin_value(Kind.REQUEST, param, param.arg)
        return Value(type=f"<self>.{ann.id}", origins=body.origins)
    origin_kind = Kind.REQUEST
    if isinstance(default, ast.Call):
        qual = (interp.qualname_of(default.func) or "").split(".")[-1]
        if qual == "Depends":
            return EMPTY
        origin_kind = {"Cookie": Kind.COOKIE, "Header": Kind.HEADER}.get(qual, Kind.REQUEST)
    if _looks_like_request(interp, param, func):
        return Value(type=fw.REQUEST)
    maybe_none = (isinstance(default, ast.Constant) and default.value is None) or (
        isinstance(default, ast.Call) and _optional_marker(default)
    )
    origin = Origin(origin_kind, _line(param), _col(param), param.arg, maybe_none=maybe_none)
    return Value(origins=frozenset({origin}))


def _optional_marker(call: ast.Call) -> bool:
    """`Cookie(None)`, `Query(default=None)`: a parameter the request may leave out
    (`Cookie()` and `Cookie(...)` are required)."""
    first = (
        call.args[0]
        if call.args
        else next((k.value for k in call.keywords if k.arg == "default"), None)
    )
    return isinstance(first, ast.Constant) and first.value is not Ellipsis


def _looks_like_request(interp: Interpreter, param: ast.arg, func: FuncNode) -> bool:
    """Django views, Starlette endpoints, aiohttp, Sanic and Pyramid handlers take the
    request as first argument."""
    if not interp.uses(*_REQUEST_FIRST):
        return False
    first = [*func.args.posonlyargs, *func.args.args]
    if not first:
        return False
    owner = interp.func_class.get(id(func))
    index = 1 if owner is not None else 0
    return (
        len(first) > index
        and first[index] is param
        and param.annotation is None
        and (interp.uses("django", "aiohttp", "sanic", "pyramid") or not interp.uses("fastapi"))
    )


_REQUEST_FIRST = ("django", "starlette", "fastapi", "aiohttp", "sanic", "pyramid", "litestar")


def _django_view_request(interp: Interpreter, func: FuncNode, param: ast.arg, index: int) -> bool:
    """A Django view's first argument, recognised by the HttpRequest API it uses."""
    first = 1 if interp.func_class.get(id(func)) is not None else 0
    if index != first or param.annotation is not None or not interp.uses("django"):
        return False
    memo: dict[tuple[int, str], bool] = interp.memo("web.django", dict)
    memo_key = (id(func), param.arg)
    if memo_key not in memo:
        memo[memo_key] = _uses_request_api(interp, func, param)
    return memo[memo_key]


def _uses_request_api(interp: Interpreter, func: FuncNode, param: ast.arg) -> bool:
    return any(
        isinstance(node, ast.Attribute)
        and isinstance(node.value, ast.Name)
        and node.value.id == param.arg
        and node.attr in fw.DJANGO_REQUEST_ATTRS
        for node in interp.own_nodes(func)
    )


def _line(node: ast.AST) -> int:
    return int(getattr(node, "lineno", 0))


def _col(node: ast.AST) -> int:
    return int(getattr(node, "col_offset", 0))

"""Expression semantics for the data-flow layer: what each kind of expression evaluates to.

`evaluate(module, node, scope)` is called (memoised) by `flow.Module.eval`. Calls are
resolved to a `Callee` and given their library meaning from `libraries.py`.
"""

from __future__ import annotations

import ast
from collections.abc import Callable

from valetkey.audit import libraries as lib
from valetkey.audit.flow import (
    EMPTY,
    Callee,
    FuncNode,
    Kind,
    Module,
    Origin,
    Scope,
    Value,
    const_int,
    const_str,
    join,
    literal,
    query_keys,
    ref_value,
    taint,
)


def evaluate(module: Module, node: ast.expr, scope: Scope) -> Value:
    handler = _HANDLERS.get(type(node))
    if handler is not None:
        return handler(module, node, scope)
    children = [
        module.eval(c, scope) for c in ast.iter_child_nodes(node) if isinstance(c, ast.expr)
    ]
    return taint(children)


def _origin(kind: Kind, node: ast.AST, key: str | None = None, **extra: object) -> Value:
    bits = extra.get("bits")
    origin = Origin(
        kind,
        int(getattr(node, "lineno", 0)),
        int(getattr(node, "col_offset", 0)),
        key,
        bits=bits if isinstance(bits, int) else None,
        maybe_none=bool(extra.get("maybe_none", False)),
    )
    return Value(origins=frozenset({origin}))


def _constant(module: Module, node: ast.expr, scope: Scope) -> Value:
    assert isinstance(node, ast.Constant)
    if isinstance(node.value, str):
        return literal(node.value, node)
    return Value(text=None)


def _name(module: Module, node: ast.expr, scope: Scope) -> Value:
    assert isinstance(node, ast.Name)
    return module.name_value(node.id, node, scope)


def _joined(module: Module, node: ast.expr, scope: Scope) -> Value:
    assert isinstance(node, ast.JoinedStr)
    parts: list[str | Value] = []
    for part in node.values:
        if isinstance(part, ast.Constant) and isinstance(part.value, str):
            parts.append(part.value)
        elif isinstance(part, ast.FormattedValue):
            parts.append(module.eval(part.value, scope))
    return _concat(parts, node)


def _concat(parts: list[str | Value], node: ast.AST) -> Value:
    texts: list[str] = []
    known = True
    fragments: list[str] = []
    values: list[Value] = []
    for part in parts:
        if isinstance(part, str):
            texts.append(part)
            fragments.append(part)
        else:
            values.append(part)
            if part.text is None:
                known = False
                fragments.extend(part.fragments)
            else:
                texts.append(part.text)
                fragments.append(part.text)
    origins = taint(values).origins
    if any(isinstance(p, str) and p for p in parts):
        origins |= literal("", node).origins
    return Value(
        origins=origins,
        text="".join(texts) if known else None,
        fragments=tuple(fragments),
        keys=query_keys(parts, node),
    )


def _binop(module: Module, node: ast.expr, scope: Scope) -> Value:
    assert isinstance(node, ast.BinOp)
    left = module.eval(node.left, scope)
    right = module.eval(node.right, scope)
    if isinstance(node.op, ast.Add) and (left.fragments or right.fragments):
        return _concat([_as_part(left), _as_part(right)], node)
    if isinstance(node.op, ast.Mod) and left.text is not None:
        return _concat([left.text, taint([right])], node)
    return taint([left, right])


def _as_part(value: Value) -> str | Value:
    if value.text is not None and value.type is None and not value.keys:
        return value if len(value.origins) > 1 else value.text
    return value


def _dict(module: Module, node: ast.expr, scope: Scope) -> Value:
    assert isinstance(node, ast.Dict)
    keys: list[tuple[str, Value]] = []
    merged: list[Value] = []
    for k, v in zip(node.keys, node.values, strict=True):
        value = module.eval(v, scope)
        key = const_str(k) if k is not None else None
        if k is None:
            merged.append(value)
        elif key is not None:
            keys.append((key, value))
    base = join([Value(keys=tuple(keys)), *merged]) if merged else Value(keys=tuple(keys))
    return Value(origins=taint(v for _, v in keys).origins | base.origins, keys=base.keys)


def _sequence(module: Module, node: ast.expr, scope: Scope) -> Value:
    assert isinstance(node, ast.List | ast.Tuple | ast.Set)
    items = [module.eval(e, scope) for e in node.elts]
    texts = [i.text for i in items]
    frags = tuple(t for t in texts if t is not None)
    value = taint(items)
    pairs = _pairs(items)
    return Value(origins=value.origins, fragments=frags, keys=pairs)


def _pairs(items: list[Value]) -> tuple[tuple[str, Value], ...]:
    """A list of (key, value) tuples, as passed to urlencode."""
    return tuple(
        (i.keys[0][0], i.keys[0][1]) for i in items if len(i.keys) == 1 and i.type == "<pair>"
    )


def _tuple(module: Module, node: ast.expr, scope: Scope) -> Value:
    assert isinstance(node, ast.Tuple)
    if len(node.elts) == 2:
        key = const_str(node.elts[0])
        if key is not None:
            second = module.eval(node.elts[1], scope)
            return Value(
                origins=second.origins,
                keys=((key, second),),
                type="<pair>",
                fragments=(key, *second.fragments),
            )
    return _sequence(module, node, scope)


def _attribute(module: Module, node: ast.expr, scope: Scope) -> Value:
    assert isinstance(node, ast.Attribute)
    base = module.eval(node.value, scope)
    return attribute_of(module, base, node.attr, node, scope)


def attribute_of(module: Module, base: Value, attr: str, node: ast.AST, scope: Scope) -> Value:
    if base.ref is not None and base.type is None:
        return _ref_attribute(module, base.ref, attr)
    if base.type == lib.REQUEST or (base.type is None and attr in lib.REQUEST_MARKER_ATTRS):
        return _request_attribute(module, attr, node)
    if base.type is None and attr == "session" and module.uses("django", "starlette", "fastapi"):
        return Value(type=lib.SESSION)
    if base.type == lib.AUTHLIB_REGISTRY:
        return Value(type=lib.AUTHLIB_APP)
    if base.type == lib.HTTP_RESPONSE:
        # the body carries the data; status, headers, reason ... do not
        return Value(origins=base.origins) if attr in ("text", "content") else EMPTY
    if base.type is not None and base.type.startswith("<self>."):
        found = module.class_attr(base.type.split(".", 1)[1], attr)
        if found is not None:
            return found
        return Value(type=f"<selfattr>.{attr}")
    if base.type == "env":
        return Value(ref=f"os.environ.{attr}")
    if base.type is not None and base.ref is not None:
        return _ref_attribute(module, base.ref, attr)
    item = base.key(attr)
    if item is not None:
        return item
    if attr in lib.RESPONSE_META_ATTRS:
        return EMPTY
    return Value(origins=base.origins)


def _ref_attribute(module: Module, ref: str, attr: str) -> Value:
    qual = f"{ref}.{attr}"
    if ref.startswith("<class>."):
        found = module.class_attr(ref.split(".", 1)[1], attr)
        return found if found is not None else Value(ref=qual)
    if qual == "os.environ":
        return Value(type="env", ref=qual)
    return ref_value(qual)


def _request_attribute(module: Module, attr: str, node: ast.AST) -> Value:
    if attr in lib.REQUEST_DATA_ATTRS:
        return Value(type=lib.REQUEST_DATA, origins=_origin(Kind.REQUEST, node).origins)
    if attr in lib.REQUEST_COOKIE_ATTRS:
        return Value(type=lib.REQUEST_COOKIES)
    if attr in lib.REQUEST_HEADER_ATTRS:
        return Value(type=lib.REQUEST_HEADERS)
    if attr in lib.REQUEST_HOST_ATTRS:
        return _origin(Kind.HOST, node, attr)
    if attr in lib.REQUEST_PATH_ATTRS:
        return _origin(Kind.INTERNAL_URL, node, attr)
    if attr == "session":
        return Value(type=lib.SESSION)
    return Value(type=f"{lib.REQUEST}.{attr}")


def _subscript(module: Module, node: ast.expr, scope: Scope) -> Value:
    assert isinstance(node, ast.Subscript)
    base = module.eval(node.value, scope)
    key = const_str(node.slice)
    key_value: Value | None = None
    if key is None and isinstance(node.slice, ast.expr):
        key_value = module.eval(node.slice, scope)
        key = key_value.text
    return item_of(module, base, key, node, maybe_none=False, default=None, key_value=key_value)


def item_of(
    module: Module,
    base: Value,
    key: str | None,
    node: ast.AST,
    maybe_none: bool,
    default: Value | None,
    key_value: Value | None = None,
) -> Value:
    """`base[key]` or `base.get(key, default)`; `key_value` is a key known only at run time."""
    extra = [default] if default is not None else []
    if base.type == lib.SESSION:
        return join([module.session_read(key, node, maybe_none), *extra])
    if base.type == lib.REQUEST_COOKIES:
        return join([module.cookie_read(key, node, maybe_none), *extra])
    if base.type in (lib.REQUEST_DATA, lib.REQUEST_HEADERS):
        kind = Kind.REQUEST if base.type == lib.REQUEST_DATA else Kind.HEADER
        if kind is Kind.HEADER and key is not None and key.lower() in lib.HOST_HEADERS:
            kind = Kind.HOST
        return join([_origin(kind, node, key, maybe_none=maybe_none), *extra])
    if base.type == "env":
        return _env(node, key, default)
    if key is not None:
        item = base.key(key)
        if item is not None:
            return join([item, *extra])
    if key is not None and (
        key in lib.TOKEN_KEYS or base.has(Kind.TOKEN, Kind.OAUTH_DATA, Kind.CLAIMS, Kind.FIELD)
    ):
        field = _origin(Kind.FIELD, node, key)
        outer = frozenset(o for o in base.origins if o.kind is not Kind.FIELD)
        return join([Value(origins=outer | field.origins), *extra])
    return join([Value(origins=base.origins), *_session_keyed(node, key_value, maybe_none), *extra])


def _session_keyed(node: ast.AST, key_value: Value | None, maybe_none: bool) -> list[Value]:
    """An entry of server-side data looked up by a value bound to the browser session (a
    session id from a cookie the app sets, a session entry) is bound to that session too,
    like the session's own entries."""
    if key_value is None or not key_value.has(Kind.SESSION):
        return []
    return [_origin(Kind.SESSION, node, None, maybe_none=maybe_none)]


def _env(node: ast.AST, key: str | None, default: Value | None) -> Value:
    value = _origin(Kind.ENV, node, key)
    if default is not None and default.text:
        lit = default.of(Kind.LITERAL)
        line = lit[0].line if lit else int(getattr(node, "lineno", 0))
        origin = Origin(Kind.ENV_DEFAULT, line, lit[0].col if lit else 0, key)
        return Value(origins=value.origins | {origin})
    return value


def _await(module: Module, node: ast.expr, scope: Scope) -> Value:
    assert isinstance(node, ast.Await)
    return module.eval(node.value, scope)


def _ifexp(module: Module, node: ast.expr, scope: Scope) -> Value:
    assert isinstance(node, ast.IfExp)
    return join([module.eval(node.body, scope), module.eval(node.orelse, scope)])


def _boolop(module: Module, node: ast.expr, scope: Scope) -> Value:
    assert isinstance(node, ast.BoolOp)
    return join(module.eval(v, scope) for v in node.values)


def _named(module: Module, node: ast.expr, scope: Scope) -> Value:
    assert isinstance(node, ast.NamedExpr)
    return module.eval(node.value, scope)


def _comprehension(module: Module, node: ast.expr, scope: Scope) -> Value:
    assert isinstance(node, ast.ListComp | ast.GeneratorExp | ast.SetComp)
    parts = [module.eval(node.elt, scope), *(module.eval(g.iter, scope) for g in node.generators)]
    return taint(parts)


def _compare(module: Module, node: ast.expr, scope: Scope) -> Value:
    return EMPTY


# --- calls ---------------------------------------------------------------------------------------
def resolve(module: Module, call: ast.Call, scope: Scope) -> Callee:
    func = call.func
    if isinstance(func, ast.Name):
        local = module.lookup_def(func.id, scope)
        if local is not None:
            return Callee(qualname=f"<local>.{func.id}", local=local)
        if func.id in module.classes:
            return Callee(qualname=f"<class>.{func.id}", local_class=func.id)
        value = module.name_value(func.id, func, scope)
        if value.ref is not None and not value.ref.startswith("<local>"):
            return Callee(qualname=value.ref if not value.ref.startswith("<builtin>.") else func.id)
        return Callee(qualname=None, receiver=value)
    if isinstance(func, ast.Attribute):
        if isinstance(func.value, ast.Name):
            local_method = _method_target(module, func, scope)
            if local_method is not None:
                return Callee(
                    qualname=None,
                    method=func.attr,
                    local=local_method,
                    receiver=module.eval(func.value, scope),
                )
        receiver = module.eval(func.value, scope)
        if receiver.type is not None and receiver.type.startswith("<self>."):
            method = module.find_method(receiver.type.split(".", 1)[1], func.attr)
            if method is not None:
                return Callee(qualname=None, method=func.attr, local=method, receiver=receiver)
        if receiver.ref is not None and receiver.type is None:
            qual = f"{receiver.ref}.{func.attr}"
            if receiver.ref.startswith("<class>."):
                cls = receiver.ref.split(".", 1)[1]
                method = module.find_method(cls, func.attr)
                if method is not None:
                    return Callee(qualname=qual, method=func.attr, local=method)
            return Callee(qualname=qual, method=func.attr)
        return Callee(qualname=None, method=func.attr, receiver=receiver)
    return Callee()


def _method_target(module: Module, func: ast.Attribute, scope: Scope) -> FuncNode | None:
    assert isinstance(func.value, ast.Name)
    name = func.value.id
    if scope.params and scope.params[0].arg == name and scope.cls is not None:
        return module.find_method(scope.cls, func.attr)
    return None


def _call(module: Module, node: ast.expr, scope: Scope) -> Value:
    assert isinstance(node, ast.Call)
    callee = resolve(module, node, scope)
    if callee.local is not None:
        bound = callee.method is not None and not (callee.qualname or "").startswith("<class>")
        return module.inline_call(callee.local, node, scope, bound_self=bound)
    if callee.local_class is not None:
        return Value(type=f"<self>.{callee.local_class}", ctor=node)
    if callee.qualname is not None:
        return _library_call(module, callee.qualname, node, scope)
    if callee.method is not None and callee.receiver is not None:
        return _method_call(module, callee.receiver, callee.method, node, scope)
    return _unknown_call(module, node, scope, None)


def _args(module: Module, call: ast.Call, scope: Scope) -> list[Value]:
    values = [module.eval(a, scope) for a in call.args]
    values.extend(module.eval(k.value, scope) for k in call.keywords)
    return values


def _unknown_call(module: Module, call: ast.Call, scope: Scope, receiver: Value | None) -> Value:
    """An unknown call: its result depends on its inputs; keyword arguments are kept as
    fields, so that `Settings(host=h).host` is `h` and not everything passed."""
    parts = _args(module, call, scope)
    if receiver is not None:
        parts.append(Value(origins=receiver.origins))
    fields = tuple(
        (kw.arg, module.eval(kw.value, scope)) for kw in call.keywords if kw.arg is not None
    )
    return Value(origins=taint(parts).origins, keys=fields)


def kwarg(call: ast.Call, name: str) -> ast.expr | None:
    for kw in call.keywords:
        if kw.arg == name:
            return kw.value
    return None


def argument(call: ast.Call, index: int, name: str) -> ast.expr | None:
    found = kwarg(call, name)
    if found is not None:
        return found
    if index < len(call.args) and not isinstance(call.args[index], ast.Starred):
        return call.args[index]
    return None


def _library_call(module: Module, qual: str, call: ast.Call, scope: Scope) -> Value:
    if qual in lib.CONSTRUCTORS:
        return Value(type=lib.CONSTRUCTORS[qual], ctor=call)
    if qual in _OPAQUE_BUILTINS:
        return EMPTY
    if qual == "ssl._create_unverified_context":
        return Value(type="ssl.unverified", ctor=call)
    for predicate, handler in _LIBRARY_RULES:
        if predicate(qual):
            return handler(module, qual, call, scope)
    if qual.startswith(tuple(f"{m}." for m in lib.WEAK_RANDOM_MODULES)):
        return _origin(Kind.WEAK_RANDOM, call)
    if qual in ("str", "repr", "bytes", "format") or qual.startswith("base64."):
        inner = [module.eval(a, scope) for a in call.args]
        if qual == "str" and len(inner) == 1 and inner[0].text is not None:
            return inner[0]
        return taint(inner)
    return _unknown_call(module, call, scope, None)


_OPAQUE_BUILTINS = frozenset(
    {"len", "bool", "type", "isinstance", "int", "float", "hash", "id", "callable", "hasattr"}
)


def _csprng(module: Module, qual: str, call: ast.Call, scope: Scope) -> Value:
    bits: int | None = lib.CSPRNG_DEFAULT_BITS.get(qual)
    first = argument(call, 0, "nbytes" if qual in lib.CSPRNG_BYTES_ARG else "length")
    count = const_int(first)
    if count is not None:
        per = 8 if qual in lib.CSPRNG_BYTES_ARG else (1 if qual == "secrets.randbits" else 6)
        bits = count * per
    elif first is not None:
        bits = None
    if bits == 0:
        bits = None
    return _origin(Kind.CSPRNG, call, bits=bits)


def _uuid(module: Module, qual: str, call: ast.Call, scope: Scope) -> Value:
    if qual.endswith("uuid4"):
        return _origin(Kind.UUID4, call, bits=122)
    if qual.endswith(("uuid3", "uuid5")):
        return Value(
            origins=_origin(Kind.HASH, call).origins | taint(_args(module, call, scope)).origins
        )
    return _origin(Kind.UUID1, call)


def _hash(module: Module, qual: str, call: ast.Call, scope: Scope) -> Value:
    inner = taint(_args(module, call, scope))
    return Value(origins=inner.origins | _origin(Kind.HASH, call).origins)


def _time(module: Module, qual: str, call: ast.Call, scope: Scope) -> Value:
    return _origin(Kind.TIME, call)


def _env_get(module: Module, qual: str, call: ast.Call, scope: Scope) -> Value:
    key_node = argument(call, 0, "key")
    key = key_text(module, key_node, scope) if key_node is not None else None
    default_node = argument(call, 1, "default")
    default = module.eval(default_node, scope) if default_node is not None else None
    return _env(call, key, default)


def _urlencode(module: Module, qual: str, call: ast.Call, scope: Scope) -> Value:
    if not call.args:
        return EMPTY
    inner = module.eval(call.args[0], scope)
    return Value(origins=inner.origins, keys=inner.keys, fragments=inner.fragments)


def _dict_call(module: Module, qual: str, call: ast.Call, scope: Scope) -> Value:
    keys = [(k.arg, module.eval(k.value, scope)) for k in call.keywords if k.arg is not None]
    bases = [module.eval(a, scope) for a in call.args]
    bases.extend(module.eval(k.value, scope) for k in call.keywords if k.arg is None)
    merged = join([*bases, Value(keys=tuple(keys))]) if bases else Value(keys=tuple(keys))
    return Value(origins=taint([merged, *(v for _, v in keys)]).origins, keys=merged.keys)


def _url_for(module: Module, qual: str, call: ast.Call, scope: Scope) -> Value:
    external = kwarg(call, "_external")
    if isinstance(external, ast.Constant) and external.value is True:
        return _origin(Kind.HOST, call, "url_for")
    return _origin(Kind.INTERNAL_URL, call)


def _jwt_decode(module: Module, qual: str, call: ast.Call, scope: Scope) -> Value:
    token = module.eval(call.args[0], scope) if call.args else EMPTY
    kept = frozenset(o for o in token.origins if o.kind not in (Kind.FIELD, Kind.TOKEN))
    return Value(origins=kept | _origin(Kind.CLAIMS, call).origins)


def _unverified(module: Module, qual: str, call: ast.Call, scope: Scope) -> Value:
    token = taint(_args(module, call, scope))
    return Value(origins=token.origins | _origin(Kind.UNVERIFIED, call).origins)


def _http(module: Module, qual: str, call: ast.Call, scope: Scope) -> Value:
    method = qual.rsplit(".", 1)[1]
    return http_response(module, call, scope, method)


def http_response(module: Module, call: ast.Call, scope: Scope, method: str) -> Value:
    from valetkey.audit.oauth import is_token_request

    kind = Kind.TOKEN if is_token_request(module, call, scope, method) else Kind.OAUTH_DATA
    return Value(type=lib.HTTP_RESPONSE, origins=_origin(kind, call).origins)


def _is_http(qual: str) -> bool:
    head, _, tail = qual.rpartition(".")
    return head in ("requests", "httpx") and tail in lib.HTTP_METHODS


_LIBRARY_RULES: list[
    tuple[Callable[[str], bool], Callable[[Module, str, ast.Call, Scope], Value]]
] = [
    (lambda q: q in lib.CSPRNG_DEFAULT_BITS, _csprng),
    (lambda q: q.startswith("uuid."), _uuid),
    (lambda q: q.split(".")[0] in lib.HASH_MODULES, _hash),
    (lambda q: q in lib.TIME_FUNCTIONS, _time),
    (lambda q: q in lib.ENV_GETTERS, _env_get),
    (lambda q: q in lib.URL_ENCODERS, _urlencode),
    (lambda q: q == "dict", _dict_call),
    (lambda q: q in lib.URL_BUILDERS_INTERNAL, _url_for),
    (
        lambda q: (
            q in lib.PYJWT_DECODE | lib.JOSE_DECODE | lib.JOSERFC_DECODE | lib.AUTHLIB_JOSE_DECODE
        ),
        _jwt_decode,
    ),
    (lambda q: q in lib.JOSE_UNVERIFIED, _unverified),
    (_is_http, _http),
]


def _method_call(
    module: Module, receiver: Value, method: str, call: ast.Call, scope: Scope
) -> Value:
    rtype = receiver.type
    if method in ("get", "pop", "setdefault", "getlist") and (
        rtype in (lib.SESSION, lib.REQUEST_DATA, lib.REQUEST_COOKIES, lib.REQUEST_HEADERS, "env")
        or (rtype is None and receiver.ref is None)
    ):
        return _mapping_get(module, receiver, method, call, scope)
    if rtype == lib.REQUEST:
        return _request_method(module, method, call, scope)
    if rtype in lib.HTTP_CLIENTS and method in lib.HTTP_METHODS:
        return http_response(module, call, scope, method)
    if rtype is not None and (rtype, method) in lib.TOKEN_EXCHANGES:
        return _origin(Kind.TOKEN, call)
    if rtype == lib.AUTHLIB_REGISTRY and method in ("register", "create_client"):
        return Value(type=lib.AUTHLIB_APP, ctor=call)
    if rtype == lib.AUTHLIB_APP and method in ("userinfo", "parse_id_token"):
        return _origin(Kind.CLAIMS, call)
    if rtype == lib.HTTP_RESPONSE and method == "json":
        return Value(origins=receiver.origins)
    if method == "join" and receiver.text is not None and call.args:
        return _str_join(module, receiver.text, call, scope)
    if method == "format" and receiver.text is not None:
        args = _args(module, call, scope)
        return _concat([receiver.text, taint(args)], call)
    return _unknown_call(module, call, scope, receiver)


def _str_join(module: Module, sep: str, call: ast.Call, scope: Scope) -> Value:
    items = module.eval(call.args[0], scope)
    arg = call.args[0]
    if isinstance(arg, ast.List | ast.Tuple) and all(
        module.eval(e, scope).text is not None for e in arg.elts
    ):
        text = sep.join(str(module.eval(e, scope).text) for e in arg.elts)
        return Value(origins=items.origins, text=text, fragments=(text,))
    return Value(origins=items.origins, fragments=items.fragments)


def key_text(module: Module, node: ast.expr, scope: Scope) -> str | None:
    return module.key_text(node, scope)


def _mapping_get(
    module: Module, receiver: Value, method: str, call: ast.Call, scope: Scope
) -> Value:
    key = key_text(module, call.args[0], scope) if call.args else None
    key_value = module.eval(call.args[0], scope) if call.args and key is None else None
    default_node = call.args[1] if len(call.args) > 1 else kwarg(call, "default")
    default = module.eval(default_node, scope) if default_node is not None else None
    is_none_default = default_node is None or (
        isinstance(default_node, ast.Constant) and default_node.value is None
    )
    maybe_none = (method == "get" and is_none_default) or (
        method == "pop" and default_node is not None and is_none_default
    )
    if receiver.type == "env":
        return _env(call, key, default)
    return item_of(
        module,
        receiver,
        key,
        call,
        maybe_none,
        default if not is_none_default else None,
        key_value=key_value,
    )


def _request_method(module: Module, method: str, call: ast.Call, scope: Scope) -> Value:
    if method in lib.REQUEST_HOST_METHODS:
        return _origin(Kind.HOST, call, method)
    if method in lib.REQUEST_PATH_METHODS:
        return _origin(Kind.INTERNAL_URL, call, method)
    if method in lib.REQUEST_DATA_METHODS:
        return Value(type=lib.REQUEST_DATA, origins=_origin(Kind.REQUEST, call).origins)
    return _origin(Kind.REQUEST, call)


_HANDLERS: dict[type[ast.AST], Callable[[Module, ast.expr, Scope], Value]] = {
    ast.Constant: _constant,
    ast.Name: _name,
    ast.JoinedStr: _joined,
    ast.BinOp: _binop,
    ast.Dict: _dict,
    ast.List: _sequence,
    ast.Set: _sequence,
    ast.Tuple: _tuple,
    ast.Attribute: _attribute,
    ast.Subscript: _subscript,
    ast.Call: _call,
    ast.Await: _await,
    ast.IfExp: _ifexp,
    ast.BoolOp: _boolop,
    ast.NamedExpr: _named,
    ast.ListComp: _comprehension,
    ast.GeneratorExp: _comprehension,
    ast.SetComp: _comprehension,
    ast.Compare: _compare,
}

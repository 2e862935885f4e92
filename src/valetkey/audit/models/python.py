"""The standard library: randomness, hashes, the clock, the environment, URL encoding, and
the builtins that build or convert strings and dicts."""

from __future__ import annotations

import ast

from valetkey.audit import libraries as lib
from valetkey.audit.index import Scope, argument
from valetkey.audit.interpreter import (
    FunctionRule,
    Interpreter,
    Item,
    Semantics,
    concat,
    origin_value,
)
from valetkey.audit.values import (
    EMPTY,
    Kind,
    Origin,
    Value,
    const_int,
    const_str,
    join,
    merge_keys,
    taint,
)

ENV = "env"  # the type tag of os.environ
SYSTEM_RANDOM = "random.SystemRandom"
# Functions whose result is their argument in another form (text, a copy, an escaped or
# serialised version): what it carries, the result carries too.
TRANSPARENT = (
    "json.dumps",
    "json.loads",
    "urllib.parse.parse_qs",
    "urllib.parse.parse_qsl",
    "codecs.decode",
    "pprint.pformat",
    "copy.copy",
    "copy.deepcopy",
    "list",
    "tuple",
    "sorted",
    "urllib.parse.quote",
    "urllib.parse.quote_plus",
    "urllib.parse.unquote",
    "urllib.parse.unquote_plus",
    "urllib.parse.urljoin",
    "html.escape",
    "markupsafe.escape",
    "markupsafe.Markup",
    "textwrap.shorten",
)
OPAQUE_BUILTINS = frozenset(
    {"len", "bool", "type", "isinstance", "hash", "id", "callable", "hasattr"}
)


def register(table: Semantics) -> None:
    for qual, tag in lib.CONSTRUCTORS.items():
        table.functions[qual] = constructor(tag)
    for qual in OPAQUE_BUILTINS:
        table.functions[qual] = _opaque
    table.function("ssl._create_unverified_context")(_unverified_ssl)
    table.function("random.SystemRandom", "secrets.SystemRandom")(_system_random)
    table.function(*lib.CSPRNG_DEFAULT_BITS)(_csprng)
    table.function_matching(lambda q: q.startswith("uuid."))(_uuid)
    table.function_matching(lambda q: q.split(".")[0] in lib.HASH_MODULES)(_hash)
    table.function(*lib.TIME_FUNCTIONS)(_time)
    table.function(*lib.ENV_GETTERS)(_env_get)
    table.function(*lib.URL_ENCODERS)(_urlencode)
    table.function("dict")(_dict_call)
    table.function("functools.partial")(_partial)
    table.function("getattr")(_getattr)
    table.function_matching(
        lambda q: q.startswith(tuple(f"{m}." for m in lib.WEAK_RANDOM_MODULES))
    )(_weak_random)
    table.function("str", "repr", "bytes", "format", "int", "float", "round", *TRANSPARENT)(
        _conversion
    )
    table.function_matching(lambda q: q.startswith("base64."))(_conversion)
    table.refs.append(_environ_ref)
    table.mapping_types.add(ENV)
    table.items.append(_environ_item)
    table.methods.append(_string_methods)
    table.methods.append(_system_random_method)


def constructor(tag: str) -> FunctionRule:
    """A call that makes an object of a modelled type, keeping its keyword settings."""

    def rule(interp: Interpreter, qual: str, call: ast.Call, scope: Scope) -> Value:
        fields = interp.keyword_fields(call.keywords, scope)
        return Value(type=tag, ctor=call, keys=fields.keys, open=fields.open)

    return rule


def _opaque(interp: Interpreter, qual: str, call: ast.Call, scope: Scope) -> Value:
    return EMPTY


def _unverified_ssl(interp: Interpreter, qual: str, call: ast.Call, scope: Scope) -> Value:
    return Value(type="ssl.unverified", ctor=call)


def _system_random(interp: Interpreter, qual: str, call: ast.Call, scope: Scope) -> Value:
    return Value(type=SYSTEM_RANDOM, ctor=call)


def _system_random_method(
    interp: Interpreter, receiver: Value, method: str, call: ast.Call, scope: Scope
) -> Value | None:
    """`random.SystemRandom()` draws from `os.urandom`: a CSPRNG, whatever the method."""
    return origin_value(Kind.CSPRNG, call) if receiver.type == SYSTEM_RANDOM else None


def _csprng(interp: Interpreter, qual: str, call: ast.Call, scope: Scope) -> Value:
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
    return origin_value(Kind.CSPRNG, call, bits=bits)


def _uuid(interp: Interpreter, qual: str, call: ast.Call, scope: Scope) -> Value:
    if qual.endswith("uuid4"):
        return origin_value(Kind.UUID4, call, bits=122)
    if qual.endswith(("uuid3", "uuid5")):
        inner = taint(interp.call_args(call, scope))
        return Value(origins=origin_value(Kind.HASH, call).origins | inner.origins)
    return origin_value(Kind.UUID1, call)


def _hash(interp: Interpreter, qual: str, call: ast.Call, scope: Scope) -> Value:
    inner = taint(interp.call_args(call, scope))
    return Value(origins=inner.origins | origin_value(Kind.HASH, call).origins)


def _time(interp: Interpreter, qual: str, call: ast.Call, scope: Scope) -> Value:
    return origin_value(Kind.TIME, call)


def _weak_random(interp: Interpreter, qual: str, call: ast.Call, scope: Scope) -> Value:
    return origin_value(Kind.WEAK_RANDOM, call)


def env_value(node: ast.AST, key: str | None, default: Value | None) -> Value:
    """An environment lookup; a literal default is a constant of the code."""
    value = origin_value(Kind.ENV, node, key)
    if default is not None and default.text:
        lit = default.of(Kind.LITERAL)
        line = lit[0].line if lit else int(getattr(node, "lineno", 0))
        origin = Origin(Kind.ENV_DEFAULT, line, lit[0].col if lit else 0, key)
        return Value(origins=value.origins | {origin})
    return value


def _env_get(interp: Interpreter, qual: str, call: ast.Call, scope: Scope) -> Value:
    key_node = argument(call, 0, "key")
    key = interp.key_text(key_node, scope) if key_node is not None else None
    default_node = argument(call, 1, "default")
    default = interp.eval(default_node, scope) if default_node is not None else None
    return env_value(call, key, default)


def _environ_ref(qual: str) -> Value | None:
    return Value(type=ENV, ref=qual) if qual == "os.environ" else None


def _environ_item(interp: Interpreter, item: Item) -> Value | None:
    if item.base.type != ENV:
        return None
    return env_value(item.node, item.key, item.default)


def _urlencode(interp: Interpreter, qual: str, call: ast.Call, scope: Scope) -> Value:
    if not call.args:
        return EMPTY
    inner = interp.eval(call.args[0], scope)
    return Value(origins=inner.origins, keys=inner.keys, fragments=inner.fragments)


def _getattr(interp: Interpreter, qual: str, call: ast.Call, scope: Scope) -> Value:
    """`getattr(obj, "name", default)` reads the attribute."""
    name = const_str(call.args[1]) if len(call.args) > 1 else None
    if name is None:
        return interp.unknown_call(call, scope, None)
    found = interp.attribute_of(interp.eval(call.args[0], scope), name, call, scope)
    default = [interp.eval(call.args[2], scope)] if len(call.args) > 2 else []
    return join([found, *default])


def _partial(interp: Interpreter, qual: str, call: ast.Call, scope: Scope) -> Value:
    """`functools.partial(requests.post, timeout=10)`: calls of it are calls of the library
    function (with those keywords preset)."""
    if not call.args:
        return EMPTY
    target = interp.eval(call.args[0], scope)
    if target.ref is None or target.ref.startswith(("<local>", "<builtin>")):
        return interp.unknown_call(call, scope, None)
    return Value(ref=target.ref, ctor=call)


def _dict_call(interp: Interpreter, qual: str, call: ast.Call, scope: Scope) -> Value:
    keys = [(k.arg, interp.eval(k.value, scope)) for k in call.keywords if k.arg is not None]
    bases = [interp.eval(a, scope) for a in call.args]
    bases.extend(interp.eval(k.value, scope) for k in call.keywords if k.arg is None)
    merged = join([*bases, Value(keys=tuple(keys))]) if bases else Value(keys=tuple(keys))
    return Value(origins=taint([merged, *(v for _, v in keys)]).origins, keys=merged.keys)


def _conversion(interp: Interpreter, qual: str, call: ast.Call, scope: Scope) -> Value:
    inner = [interp.eval(a, scope) for a in call.args]
    if qual == "str" and len(inner) == 1 and inner[0].text is not None:
        return inner[0]
    return taint(inner)


def _string_methods(
    interp: Interpreter, receiver: Value, method: str, call: ast.Call, scope: Scope
) -> Value | None:
    if method == "copy" and not call.args and receiver.type is None:
        return receiver  # `params.copy()`: the same entries
    if receiver.text is None:
        return None
    if method == "join" and call.args:
        return _str_join(interp, receiver.text, call, scope)
    if method == "format":
        return concat([receiver.text, taint(interp.call_args(call, scope))], call)
    return None


def _str_join(interp: Interpreter, sep: str, call: ast.Call, scope: Scope) -> Value:
    """`sep.join(parts)`; joined with `&`, the parameters of the parts (`"state=..."`) are
    the parameters of the whole query string."""
    items = interp.eval(call.args[0], scope)
    arg = call.args[0]
    parts = (
        [interp.eval(e, scope) for e in arg.elts] if isinstance(arg, ast.List | ast.Tuple) else []
    )
    keys = merge_keys(parts) if sep == "&" else ()
    if parts and all(p.text is not None for p in parts):
        text = sep.join(str(p.text) for p in parts)
        return Value(origins=items.origins, text=text, fragments=(text,), keys=keys)
    return Value(origins=items.origins, fragments=items.fragments, keys=keys)

"""Small predicates shared by several checks."""

from __future__ import annotations

import ast
from collections.abc import Iterator

from valetkey.audit import frameworks as fw
from valetkey.audit import libraries as lib
from valetkey.audit.analysis import Analysis
from valetkey.audit.index import FuncNode, Scope
from valetkey.audit.values import Kind, Origin, Value

WEAK_KINDS = (Kind.WEAK_RANDOM, Kind.TIME, Kind.UUID1)


def hardcoded(value: Value) -> Origin | None:
    """The literal that makes this value a constant in the code, if it is one.

    A value is hard-coded when it is a non-empty known text built only from literals, or
    when it has a literal default of an environment lookup (`os.environ.get("X", "lit")`).
    """
    defaults = value.of(Kind.ENV_DEFAULT)
    if defaults:
        return defaults[0]
    literals = value.of(Kind.LITERAL)
    if value.text and literals and all(o.kind is Kind.LITERAL for o in value.origins):
        return literals[0]
    return None


def first_line(value: Value, *kinds: Kind) -> Origin | None:
    found = sorted((o for o in value.origins if o.kind in kinds), key=lambda o: (o.line, o.col))
    return found[0] if found else None


def text_tokens(value: Value) -> list[str]:
    """Whitespace/comma separated tokens of a known text or of the literal list items."""
    pieces = [value.text] if value.text is not None else list(value.fragments)
    tokens: list[str] = []
    for piece in pieces:
        tokens.extend(t for t in piece.replace(",", " ").split() if t)
    return tokens


def is_secret(value: Value, client_secret_origins: frozenset[Origin]) -> bool:
    """Does this value carry a token, an authorization code or the client secret?

    Only the value itself counts: what an unknown call computed from a secret (an API client
    built with the token, the events it lists) is not the secret."""
    if _names_a_secret(value):
        return True
    value = Value(origins=frozenset(o for o in value.origins if not o.derived))
    fields = value.field_keys()
    if fields & (lib.TOKEN_KEYS | {"client_secret"}):
        return True
    if value.has(Kind.TOKEN) and not fields:
        return True
    if any(o.kind is Kind.REQUEST and o.key == "code" for o in value.origins):
        return True
    return bool(value.origins & client_secret_origins)


_SECRET_ENTRY_KEYS = frozenset({*lib.TOKEN_KEYS, "client_secret"})
# Where the app's own secrets come from: its configuration, or a token response.
_OWN_SECRET_KINDS = frozenset({Kind.ENV, Kind.ENV_DEFAULT, Kind.TOKEN, Kind.FIELD})


def _names_a_secret(value: Value, depth: int = 0) -> bool:
    """A mapping (a response body, a log record) with an entry that says it is a token or
    the client secret (`{"client_secret": settings.X}`), holding the app's own configured
    value or a token it received (not a constant, and not a record's data: a registration
    endpoint hands a new client the secret stored for it)."""
    for key, item in value.keys:
        own = [o for o in item.origins if not o.derived and o.kind in _OWN_SECRET_KINDS]
        if key in _SECRET_ENTRY_KEYS and item.text is None and (item.ref or own):
            return True
        if depth < 2 and _names_a_secret(item, depth + 1):
            return True
    return False


def client_secret_origins(module: Analysis) -> frozenset[Origin]:
    from valetkey.audit.oauth import placements

    found: set[Origin] = set()
    for p in placements(module):
        if p.key == "client_secret":
            found |= set(p.value.of(Kind.ENV))
            literal = hardcoded(p.value)
            if literal is not None:  # only a secret that is itself a literal, not a part
                found |= set(p.value.of(Kind.LITERAL))
    return frozenset(found)


def calls_in(module: Analysis, func: FuncNode, depth: int = 2) -> Iterator[tuple[ast.Call, Scope]]:
    """Calls made by a function and by the module functions it calls (a few levels)."""
    seen: set[int] = set()
    todo: list[tuple[FuncNode, int]] = [(func, 0)]
    while todo:
        current, level = todo.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        scope = module.scopes[id(current)]
        for node in module.own_nodes(current):
            if isinstance(node, ast.Call):
                yield node, scope
                callee = module.resolve(node, scope)
                if callee.local is not None and level < depth:
                    todo.append((callee.local, level + 1))


def bodies(module: Analysis, func: FuncNode, depth: int = 2) -> list[FuncNode]:
    """The function and the module functions it calls."""
    found: list[FuncNode] = [func]
    for call, scope in calls_in(module, func, depth):
        callee = module.resolve(call, scope)
        if callee.local is not None and callee.local not in found:
            found.append(callee.local)
    return found


def session_read_key(module: Analysis, node: ast.AST, scope: Scope) -> ast.expr | None:
    """The key of a read of the session itself: `session[key]`, `session.get(key)`,
    `session.pop(key)`; None for anything else."""
    if isinstance(node, ast.Subscript) and isinstance(node.slice, ast.expr):
        base, key = node.value, node.slice
    elif (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr in ("get", "pop", "setdefault")
        and node.args
    ):
        base, key = node.func.value, node.args[0]
    else:
        return None
    return key if module.eval(base, scope).type == fw.SESSION else None

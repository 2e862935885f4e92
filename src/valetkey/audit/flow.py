"""The data-flow layer: abstract values with provenance, evaluated over one module's AST.

An expression evaluates to a `Value`: the set of `Origin`s it may come from (a literal, a
CSPRNG, weak randomness, the environment, request data, the session, a token response ...),
its text when it is a known constant, the query or dict keys it carries, and, for objects of
a modelled library, a type tag (see `libraries.py`). Values flow through assignments, dict
literals and `dict(...)`, f-strings, `+`/`%`/`.format`, `urlencode`, module constants, class
attributes, function arguments (joined over the module's call sites) and return values
(evaluated per call, a few levels deep), and between routes through the session.

The analysis is flow-insensitive inside a function (a name's value is the join of everything
assigned to it), which over-approximates provenance; checks that need statement order (a
state comparison that must stop the flow, a removal from the session) walk the AST themselves.
"""

from __future__ import annotations

import ast
import enum
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace

from valetkey.audit import libraries as lib

FuncNode = ast.FunctionDef | ast.AsyncFunctionDef
MAX_INLINE_DEPTH = 3
MAX_EVAL_DEPTH = 120  # nested evaluations; keeps far below Python's recursion limit


class Kind(enum.Enum):
    """Where a value may come from."""

    LITERAL = "a string literal"
    CSPRNG = "a CSPRNG"
    WEAK_RANDOM = "the non-cryptographic `random` module"
    TIME = "the clock"
    UUID1 = "uuid1 (time and MAC address)"
    UUID4 = "uuid4 (122 random bits)"
    HASH = "a hash"
    ENV = "the environment"
    ENV_DEFAULT = "a literal default of an environment lookup"
    REQUEST = "request data"
    COOKIE = "a request cookie"
    HEADER = "a request header"
    HOST = "the request's host"
    SESSION = "the session"
    TOKEN = "a token response"  # noqa: S105 - a provenance label, not a password
    OAUTH_DATA = "an OAuth API response"
    CLAIMS = "decoded token claims"
    UNVERIFIED = "an unverified token header or payload"
    FIELD = "a field of an OAuth response"
    PARAM = "a function parameter"
    INTERNAL_URL = "an internal URL"


@dataclass(frozen=True)
class Origin:
    """One source of a value, with where it appears in the file."""

    kind: Kind
    line: int
    col: int = 0
    key: str | None = None
    bits: int | None = None
    maybe_none: bool = False


@dataclass(frozen=True)
class Value:
    """An abstract value: what it may come from and what is known about it."""

    origins: frozenset[Origin] = frozenset()
    text: str | None = None
    fragments: tuple[str, ...] = ()
    keys: tuple[tuple[str, Value], ...] = ()
    type: str | None = None
    ref: str | None = None
    ctor: ast.Call | None = field(default=None, compare=False, hash=False)

    def kinds(self) -> frozenset[Kind]:
        return frozenset(o.kind for o in self.origins)

    def has(self, *kinds: Kind) -> bool:
        return any(o.kind in kinds for o in self.origins)

    def of(self, kind: Kind) -> list[Origin]:
        return sorted((o for o in self.origins if o.kind is kind), key=_origin_order)

    def key(self, name: str) -> Value | None:
        for k, v in self.keys:
            if k == name:
                return v
        return None

    def key_names(self) -> frozenset[str]:
        return frozenset(k for k, _ in self.keys)

    def all_text(self) -> str:
        """The known text, or the literal fragments joined (placeholders dropped)."""
        return self.text if self.text is not None else "".join(self.fragments)

    def field_keys(self) -> frozenset[str]:
        return frozenset(o.key for o in self.origins if o.kind is Kind.FIELD and o.key)


EMPTY = Value()


def _origin_order(o: Origin) -> tuple[int, int]:
    return (o.line, o.col)


def join(values: Iterable[Value]) -> Value:
    """The least upper bound of several possible values."""
    items = list(values)
    if not items:
        return EMPTY
    if len(items) == 1:
        return items[0]
    origins: frozenset[Origin] = frozenset().union(*(v.origins for v in items))
    texts = {v.text for v in items}
    types = {v.type for v in items}
    refs = {v.ref for v in items}
    keys = _merge_keys(items)
    frags = tuple(dict.fromkeys(f for v in items for f in v.fragments))
    ctor = next((v.ctor for v in items if v.ctor is not None), None)
    return Value(
        origins=origins,
        text=texts.pop() if len(texts) == 1 else None,
        fragments=frags,
        keys=keys,
        type=types.pop() if len(types) == 1 else next((t for t in types if t), None),
        ref=refs.pop() if len(refs) == 1 else None,
        ctor=ctor,
    )


def _merge_keys(items: Sequence[Value]) -> tuple[tuple[str, Value], ...]:
    merged: dict[str, list[Value]] = {}
    for v in items:
        for k, item in v.keys:
            merged.setdefault(k, []).append(item)
    return tuple((k, join(vs)) for k, vs in merged.items())


def taint(values: Iterable[Value]) -> Value:
    """A value derived from others by an unknown operation: provenance only."""
    return Value(origins=frozenset().union(*(v.origins for v in values)))


def literal(text: str, node: ast.AST) -> Value:
    return Value(
        origins=frozenset({Origin(Kind.LITERAL, _line(node), _col(node))}),
        text=text,
        fragments=(text,),
    )


def _line(node: ast.AST) -> int:
    return int(getattr(node, "lineno", 0))


def _col(node: ast.AST) -> int:
    return int(getattr(node, "col_offset", 0))


# --- query strings --------------------------------------------------------------------------
_PARAM = re.compile(r"([A-Za-z_][A-Za-z0-9_.\-]*)=([^&#?]*)$")


def query_keys(parts: Sequence[str | Value], node: ast.AST) -> tuple[tuple[str, Value], ...]:
    """Parameters found in a URL built from literal text and embedded values."""
    found: list[tuple[str, Value]] = []
    pending: str | None = None
    for part in parts:
        if isinstance(part, Value):
            if pending is not None:
                found.append((pending, part))
                pending = None
            found.extend(part.keys if part.type is None else ())
            continue
        pending = None
        segments = re.split(r"[?&#]", part)
        for index, segment in enumerate(segments):
            match = _PARAM.search(segment) if index > 0 or "=" in segment else None
            if match is None or (index == 0 and not _starts_query(segment, match)):
                continue
            key, raw = match.group(1), match.group(2)
            if any(c in raw for c in "\"' "):
                continue  # code or prose (`client_secret="x"`), not a query parameter
            if raw == "" and index == len(segments) - 1:
                pending = key
            else:
                found.append((key, literal(raw, node)))
    return tuple(found)


def _starts_query(segment: str, match: re.Match[str]) -> bool:
    return match.start() == 0 and "/" not in segment and ":" not in segment


# --- scopes ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Binding:
    """One way a name gets a value: `expr` assigned whole, or part of it (`unpack`)."""

    expr: ast.expr
    whole: bool = True
    key: str | None = None


class Scope:
    """The names bound in a module or function body."""

    def __init__(
        self,
        node: ast.Module | FuncNode,
        parent: Scope | None,
        cls: str | None = None,
        overrides: dict[str, Value] | None = None,
        walrus: bool = True,
        defs: Sequence[FuncNode] | None = None,
    ) -> None:
        self.node = node
        self.parent = parent
        self.cls = cls
        self._bindings: dict[str, list[Binding]] | None = None
        self._local_defs: dict[str, FuncNode] = {}
        self._walrus = walrus
        self.overrides = overrides or {}
        self.depth = 0
        self.params: list[ast.arg] = []
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            args = node.args
            self.params = [*args.posonlyargs, *args.args, *args.kwonlyargs]
        if defs is None:
            defs = [
                s
                for s in _own_statements(node.body)
                if isinstance(s, ast.FunctionDef | ast.AsyncFunctionDef)
            ]
        for func in defs:
            self._local_defs[func.name] = func

    @property
    def bindings(self) -> dict[str, list[Binding]]:
        """Names bound in this body (collected on first use)."""
        if self._bindings is None:
            self._bindings = {}
            _collect_bindings(self, self.node, self._walrus)
        return self._bindings

    @property
    def local_defs(self) -> dict[str, FuncNode]:
        return self._local_defs

    def specialise(self, overrides: dict[str, Value], depth: int) -> Scope:
        clone = Scope.__new__(Scope)
        clone.__dict__.update(self.__dict__)
        clone.overrides = overrides
        clone.depth = depth
        return clone


def _collect_bindings(scope: Scope, node: ast.Module | FuncNode, walrus: bool) -> None:
    for stmt in _own_statements(node.body):
        if isinstance(stmt, ast.Assign):
            for target in stmt.targets:
                _bind_target(scope, target, stmt.value)
        elif isinstance(stmt, ast.AnnAssign) and stmt.value is not None:
            _bind_target(scope, stmt.target, stmt.value)
        elif isinstance(stmt, ast.AugAssign) and isinstance(stmt.target, ast.Name):
            scope.bindings.setdefault(stmt.target.id, []).append(Binding(stmt.value, False))
        elif isinstance(stmt, ast.For | ast.AsyncFor):
            _bind_target(scope, stmt.target, stmt.iter, whole=False)
        elif isinstance(stmt, ast.With | ast.AsyncWith):
            for item in stmt.items:
                if item.optional_vars is not None:
                    _bind_target(scope, item.optional_vars, item.context_expr)
        elif isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Call):
            _bind_update(scope, stmt.value)
    for expr in _own_walrus(node.body) if walrus else ():
        if isinstance(expr.target, ast.Name):
            scope.bindings.setdefault(expr.target.id, []).append(Binding(expr.value))


def _bind_target(scope: Scope, target: ast.expr, value: ast.expr, whole: bool = True) -> None:
    if isinstance(target, ast.Name):
        scope.bindings.setdefault(target.id, []).append(Binding(value, whole))
    elif isinstance(target, ast.Tuple | ast.List):
        for index, element in enumerate(target.elts):
            if isinstance(value, ast.Tuple | ast.List) and len(value.elts) == len(target.elts):
                _bind_target(scope, element, value.elts[index], whole)
            else:
                _bind_target(scope, element, value, whole=False)
    elif isinstance(target, ast.Subscript) and isinstance(target.value, ast.Name):
        key = _const_str(target.slice)
        if key is not None:
            scope.bindings.setdefault(target.value.id, []).append(Binding(value, True, key))
    elif isinstance(target, ast.Starred):
        _bind_target(scope, target.value, value, whole=False)


def _bind_update(scope: Scope, call: ast.Call) -> None:
    """`params.update(state=...)` and `params.update({"state": ...})` add keys to a name."""
    func = call.func
    if not (isinstance(func, ast.Attribute) and func.attr == "update"):
        return
    if not isinstance(func.value, ast.Name):
        return
    name = func.value.id
    for kw in call.keywords:
        if kw.arg is not None:
            scope.bindings.setdefault(name, []).append(Binding(kw.value, True, kw.arg))
    for arg in call.args:
        if isinstance(arg, ast.Dict):
            for k, v in zip(arg.keys, arg.values, strict=True):
                key = _const_str(k) if k is not None else None
                if key is not None:
                    scope.bindings.setdefault(name, []).append(Binding(v, True, key))


def _own_statements(body: Sequence[ast.stmt]) -> Iterator[ast.stmt]:
    """Statements of a body, descending into blocks but not into nested defs or classes."""
    for stmt in body:
        yield stmt
        if isinstance(stmt, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            continue
        for name in ("body", "orelse", "finalbody"):
            yield from _own_statements(getattr(stmt, name, []))
        for handler in getattr(stmt, "handlers", []):
            yield from _own_statements(handler.body)
        for case in getattr(stmt, "cases", []):
            yield from _own_statements(case.body)


def _own_walrus(body: Sequence[ast.stmt]) -> Iterator[ast.NamedExpr]:
    for stmt in _own_statements(body):
        if isinstance(stmt, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            continue
        for name in stmt._fields:  # the statement's own expressions, not nested blocks
            field = getattr(stmt, name, None)
            for item in field if isinstance(field, list) else [field]:
                if isinstance(item, ast.expr):
                    yield from (n for n in ast.walk(item) if isinstance(n, ast.NamedExpr))


def _const_str(node: ast.expr | None) -> str | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    return None


def const_int(node: ast.expr | None) -> int | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, int):
        return int(node.value)
    return None


# --- callees -----------------------------------------------------------------------------------
@dataclass(frozen=True)
class Callee:
    """What a call calls, as far as the module tells."""

    qualname: str | None = None
    method: str | None = None
    receiver: Value | None = None
    local: FuncNode | None = None
    local_class: str | None = None

    @property
    def receiver_type(self) -> str | None:
        return self.receiver.type if self.receiver is not None else None

    def is_method(self, types: Iterable[str], *names: str) -> bool:
        return self.receiver_type in set(types) and (not names or self.method in names)


@dataclass(frozen=True)
class ClassInfo:
    name: str
    node: ast.ClassDef
    bases: tuple[str, ...]


class Module:
    """One parsed module with its imports, scopes and an evaluator over them."""

    def __init__(self, tree: ast.Module) -> None:
        self.tree = tree
        self.imports: dict[str, str] = {}
        self.classes: dict[str, ClassInfo] = {}
        self.methods: dict[tuple[str, str], FuncNode] = {}
        self.class_attrs: dict[tuple[str, str], list[tuple[ast.expr, Scope]]] = {}
        self.scopes: dict[int, Scope] = {}
        self.func_class: dict[int, str | None] = {}
        self.parents: dict[int, ast.AST] = {}
        self.route_funcs: set[int] = set()
        self._call_sites: dict[int, list[tuple[ast.Call, Scope]]] = {}
        self._session_stores: dict[str, list[tuple[ast.expr, Scope]]] = {}
        self._cookie_stores: dict[str, list[tuple[ast.expr, Scope]]] = {}
        self._calls_indexed = False
        self._method_names: frozenset[str] | None = None
        self.frameworks: set[str] = set()
        self._memo: dict[tuple[int, int], Value] = {}
        self._busy: set[tuple[int, int]] = set()
        self._inline_memo: dict[tuple[int, tuple[Value, ...]], Value] = {}
        self._scope_cache: dict[int, Scope] = {}
        self._owner: dict[int, ast.AST] = {}
        self._own_nodes: dict[int, list[ast.AST]] | None = None
        self._django_memo: dict[tuple[int, str], bool] = {}
        self._index()

    # --- indexing ----------------------------------------------------------------------------
    def _index(self) -> None:
        self.nodes: list[ast.AST] = [self.tree]
        parents = self.parents
        owner = self._owner
        owner[id(self.tree)] = self.tree
        index = 0
        while index < len(self.nodes):  # breadth first, like ast.walk: parents and owners
            parent = self.nodes[index]
            index += 1
            inner = (
                parent
                if isinstance(parent, ast.FunctionDef | ast.AsyncFunctionDef)
                else owner[id(parent)]
            )
            for name in parent._fields:
                field = getattr(parent, name, None)
                for item in field if isinstance(field, list) else (field,):
                    if isinstance(item, ast.AST):
                        parents[id(item)] = parent
                        owner[id(item)] = inner
                        self.nodes.append(item)
        self._index_imports()
        self._summarise()
        self.module_scope = Scope(
            self.tree, None, walrus=self.walrus, defs=self._defs_by_owner.get(id(self.tree), [])
        )
        self.scopes[id(self.tree)] = self.module_scope
        self._index_defs(self.tree.body, self.module_scope, None)
        self._index_routes()

    def _summarise(self) -> None:
        """One pass over the nodes: string constants, keyword and attribute names (cheap
        preconditions that let checks skip modules that cannot contain what they look for;
        never a finding by themselves), function definitions by owner, route candidates."""
        strings: set[str] = set()
        identifiers: set[str] = set()
        self.walrus = False
        self._defs_by_owner: dict[int, list[FuncNode]] = {}
        self._route_calls: list[ast.Call] = []
        for node in self.nodes:
            kind = type(node)
            if kind is ast.Constant:
                value = node.value  # type: ignore[attr-defined]
                if isinstance(value, str):
                    strings.add(value)
            elif kind is ast.keyword:
                if node.arg:  # type: ignore[attr-defined]
                    strings.add(node.arg)  # type: ignore[attr-defined]
            elif kind is ast.Attribute:
                identifiers.add(node.attr)  # type: ignore[attr-defined]
            elif kind is ast.Name:
                identifiers.add(node.id)  # type: ignore[attr-defined]
            elif kind is ast.FunctionDef or kind is ast.AsyncFunctionDef:
                owner = id(self._owner[id(node)])
                self._defs_by_owner.setdefault(owner, []).append(node)  # type: ignore[arg-type]
            elif kind is ast.NamedExpr:
                self.walrus = True
            elif kind is ast.Call and _route_callee(node):  # type: ignore[arg-type]
                self._route_calls.append(node)  # type: ignore[arg-type]
        self.strings = frozenset(strings)
        self.identifiers = frozenset(identifiers)

    def _index_imports(self) -> None:
        for node in self.nodes:
            if isinstance(node, ast.Import):
                for alias in node.names:
                    if alias.asname:
                        self.imports[alias.asname] = alias.name
                    else:
                        top = alias.name.split(".")[0]
                        self.imports[top] = top
                    self.frameworks.add(alias.name.split(".")[0])
            elif isinstance(node, ast.ImportFrom):
                base = "." * node.level + (node.module or "")
                self.frameworks.add(base.split(".")[0] if base else "")
                for alias in node.names:
                    self.imports[alias.asname or alias.name] = f"{base}.{alias.name}"

    def _index_defs(self, body: Sequence[ast.stmt], parent: Scope, cls: str | None) -> None:
        for stmt in body:
            if isinstance(stmt, ast.FunctionDef | ast.AsyncFunctionDef):
                defs = self._defs_by_owner.get(id(stmt), [])
                scope = Scope(stmt, parent, cls, walrus=self.walrus, defs=defs)
                self.scopes[id(stmt)] = scope
                self.func_class[id(stmt)] = cls
                if cls is not None:
                    self.methods[(cls, stmt.name)] = stmt
                    self._index_self_attrs(stmt, scope, cls)
                self._index_defs(stmt.body, scope, None)
            elif isinstance(stmt, ast.ClassDef):
                bases = tuple(ast.unparse(b) for b in stmt.bases)
                self.classes[stmt.name] = ClassInfo(stmt.name, stmt, bases)
                class_scope = Scope(
                    ast.Module(body=stmt.body, type_ignores=[]), parent, walrus=self.walrus
                )
                for name, binds in class_scope.bindings.items():
                    for b in binds:
                        self.class_attrs.setdefault((stmt.name, name), []).append((b.expr, parent))
                self._index_defs(stmt.body, parent, stmt.name)
            else:
                for name in ("body", "orelse", "finalbody"):
                    self._index_defs(getattr(stmt, name, []), parent, cls)
                for handler in getattr(stmt, "handlers", []):
                    self._index_defs(handler.body, parent, cls)
                for case in getattr(stmt, "cases", []):
                    self._index_defs(case.body, parent, cls)

    def _index_self_attrs(self, func: FuncNode, scope: Scope, cls: str) -> None:
        if not scope.params:
            return
        self_name = scope.params[0].arg
        for stmt in _own_statements(func.body):
            if not isinstance(stmt, ast.Assign | ast.AnnAssign) or stmt.value is None:
                continue
            targets = stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target]
            for target in targets:
                if (
                    isinstance(target, ast.Attribute)
                    and isinstance(target.value, ast.Name)
                    and target.value.id == self_name
                ):
                    self.class_attrs.setdefault((cls, target.attr), []).append((stmt.value, scope))

    def _index_routes(self) -> None:
        for defs in self._defs_by_owner.values():
            for func in defs:
                if any(self._is_route_decorator(d) for d in func.decorator_list):
                    self.route_funcs.add(id(func))
        for call in self._route_calls:
            if self.qualname_of(call.func) in (
                "starlette.routing.Route",
                "django.urls.path",
                "django.urls.re_path",
            ):
                self._mark_endpoint(call)

    def _mark_endpoint(self, call: ast.Call) -> None:
        candidates = [
            *call.args[1:2],
            *(k.value for k in call.keywords if k.arg in ("endpoint", "view")),
        ]
        for cand in candidates:
            if isinstance(cand, ast.Name):
                func = self.module_scope.local_defs.get(cand.id)
                if func is not None:
                    self.route_funcs.add(id(func))

    def _is_route_decorator(self, deco: ast.expr) -> bool:
        target = deco.func if isinstance(deco, ast.Call) else deco
        if isinstance(target, ast.Attribute) and target.attr in lib.ROUTE_DECORATORS:
            return isinstance(deco, ast.Call)
        qual = self.qualname_of(target) or ""
        return qual.startswith(("django.views.decorators", "django.contrib.auth.decorators"))

    @property
    def call_sites(self) -> dict[int, list[tuple[ast.Call, Scope]]]:
        self._index_calls_and_stores()
        return self._call_sites

    @property
    def session_stores(self) -> dict[str, list[tuple[ast.expr, Scope]]]:
        self._index_calls_and_stores()
        return self._session_stores

    @property
    def cookie_stores(self) -> dict[str, list[tuple[ast.expr, Scope]]]:
        self._index_calls_and_stores()
        return self._cookie_stores

    def _index_calls_and_stores(self) -> None:
        """Call sites of module functions and writes to the session/cookies (done once,
        on first use)."""
        if self._calls_indexed:
            return
        self._calls_indexed = True
        calls = [n for n in self.nodes if isinstance(n, ast.Call)]
        pending: list[ast.Call] = []
        for call in calls:  # first the call graph, which evaluation relies on
            target = self._local_target(call.func, self.scope_of(call))
            if target is not None:
                self._call_sites.setdefault(id(target), []).append((call, self.scope_of(call)))
            elif isinstance(call.func, ast.Attribute) and self._local_method_name(call.func.attr):
                pending.append(call)
        for call in pending:  # then methods called on instances of the module's classes
            assert isinstance(call.func, ast.Attribute)
            receiver = self.eval(call.func.value, self.scope_of(call))
            if receiver.type is not None and receiver.type.startswith("<self>."):
                method = self.find_method(receiver.type.split(".", 1)[1], call.func.attr)
                if method is not None:
                    self._call_sites.setdefault(id(method), []).append((call, self.scope_of(call)))
        for call in calls:
            self._index_call(call, self.scope_of(call))
        for node in self.nodes:
            if isinstance(node, ast.Assign):
                self._index_store(node, self.scope_of(node))

    def _index_call(self, call: ast.Call, scope: Scope) -> None:
        func = call.func
        if not isinstance(func, ast.Attribute) or func.attr not in _STORE_METHODS:
            return
        receiver = self.eval(func.value, scope)
        if receiver.type == lib.SESSION and func.attr == "setdefault" and len(call.args) == 2:
            key = _const_str(call.args[0])
            if key is not None:
                self._session_stores.setdefault(key, []).append((call.args[1], scope))
        elif receiver.type == lib.SESSION and func.attr == "update":
            for kw in call.keywords:
                if kw.arg:
                    self._session_stores.setdefault(kw.arg, []).append((kw.value, scope))
        elif func.attr == "set_cookie" and len(call.args) >= 2:
            key = self.key_text(call.args[0], scope)
            if key is not None:
                self._cookie_stores.setdefault(key, []).append((call.args[1], scope))

    def _index_store(self, stmt: ast.stmt, scope: Scope) -> None:
        if not isinstance(stmt, ast.Assign):
            return
        for target in stmt.targets:
            if isinstance(target, ast.Subscript):
                key = _const_str(target.slice)
                if key is not None and self.eval(target.value, scope).type == lib.SESSION:
                    self._session_stores.setdefault(key, []).append((stmt.value, scope))

    def key_text(self, node: ast.expr, scope: Scope) -> str | None:
        """A key given as a literal, as a name bound to a known text, or as an imported
        constant (named by its qualified name, the same symbol wherever it is used)."""
        literal_key = _const_str(node)
        if literal_key is not None or not isinstance(node, ast.Name | ast.Attribute):
            return literal_key
        text = self.eval(node, scope).text
        if text is not None:
            return text
        qual = self.qualname_of(node)
        return f"@{qual}" if qual else None

    def _local_method_name(self, name: str) -> bool:
        if self._method_names is None:
            self._method_names = frozenset(m for _, m in self.methods)
        return name in self._method_names

    def _local_target(self, func: ast.expr, scope: Scope) -> FuncNode | None:
        if isinstance(func, ast.Name):
            return self.lookup_def(func.id, scope)
        if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name):
            cls = self._class_of_name(func.value.id, scope)
            if cls is not None:
                return self.find_method(cls, func.attr)
        return None

    def _class_of_name(self, name: str, scope: Scope) -> str | None:
        if name in self.classes:
            return name
        first = scope.params[0] if scope.params else None
        if (
            first is not None
            and first.arg == name
            and scope.cls is not None
            and (name in ("self", "cls") or first.annotation is None)
        ):
            return scope.cls
        return None

    def _class_and_bases(self, cls: str) -> Iterator[str]:
        """`cls`, then each base class known in the module, each once."""
        seen: set[str] = set()
        todo = [cls]
        while todo:
            current = todo.pop()
            if current in seen:
                continue
            seen.add(current)
            yield current
            info = self.classes.get(current)
            if info is not None:
                todo.extend(info.bases)

    def find_method(self, cls: str, name: str) -> FuncNode | None:
        for current in self._class_and_bases(cls):
            method = self.methods.get((current, name))
            if method is not None:
                return method
        return None

    def lookup_def(self, name: str, scope: Scope | None) -> FuncNode | None:
        while scope is not None:
            if name in scope.local_defs:
                return scope.local_defs[name]
            scope = scope.parent
        return None

    # --- queries -----------------------------------------------------------------------------
    def qualname_of(self, node: ast.expr) -> str | None:
        """The dotted library name of an expression made of imported names and attributes."""
        if isinstance(node, ast.Name):
            return self.imports.get(node.id)
        if isinstance(node, ast.Attribute):
            base = self.qualname_of(node.value)
            return f"{base}.{node.attr}" if base else None
        return None

    def functions(self) -> Iterator[tuple[FuncNode, Scope]]:
        for defs in self._defs_by_owner.values():
            for func in defs:
                scope = self.scopes.get(id(func))
                if scope is not None:
                    yield func, scope

    def scope_of(self, node: ast.AST) -> Scope:
        """The scope of the innermost function around `node`."""
        owner = self._owner.get(id(node))
        if owner is None:
            return self.module_scope
        return self.scopes.get(id(owner), self.module_scope)

    def own_nodes(self, func: FuncNode) -> list[ast.AST]:
        """The nodes of a function's body, not those of functions nested in it."""
        if self._own_nodes is None:
            self._own_nodes = {}
            for node in self.nodes:
                self._own_nodes.setdefault(id(self._owner[id(node)]), []).append(node)
        return self._own_nodes.get(id(func), [])

    def enclosing_function(self, node: ast.AST) -> FuncNode | None:
        current: ast.AST | None = self.parents.get(id(node))
        while current is not None:
            if isinstance(current, ast.FunctionDef | ast.AsyncFunctionDef):
                return current
            current = self.parents.get(id(current))
        return None

    def is_route(self, func: FuncNode) -> bool:
        return id(func) in self.route_funcs

    def mentions(self, *words: str) -> bool:
        """Is one of these words a string constant or keyword of the module?"""
        return any(w in self.strings for w in words)

    def mentions_part(self, word: str) -> bool:
        """Does a string constant of the module contain this word?"""
        return any(word in s for s in self.strings)

    def uses(self, *prefixes: str) -> bool:
        return any(f.startswith(prefixes) for f in self.frameworks)

    # --- evaluation --------------------------------------------------------------------------
    def eval(self, node: ast.expr, scope: Scope) -> Value:
        memo_key = (id(node), id(scope))
        cached = self._memo.get(memo_key)
        if cached is not None:
            return cached
        if memo_key in self._busy or len(self._busy) > MAX_EVAL_DEPTH:
            return EMPTY  # a cycle, or a chain too long to follow: nothing is known
        self._busy.add(memo_key)
        try:
            value = self._eval(node, scope)
        finally:
            self._busy.discard(memo_key)
        self._memo[memo_key] = value
        return value

    def _eval(self, node: ast.expr, scope: Scope) -> Value:
        from valetkey.audit import evaluate

        return evaluate.evaluate(self, node, scope)

    def name_value(self, name: str, node: ast.expr, scope: Scope) -> Value:
        current: Scope | None = scope
        while current is not None:
            if name in current.overrides:
                return current.overrides[name]
            if name in current.bindings:
                if any(b.key is None for b in current.bindings[name]):
                    bound = self._bound(name, current)
                    param = next((p for p in current.params if p.arg == name), None)
                    if param is None:
                        return bound
                    return join([self.param_value(param, current), bound])
                return self._keyed_only(name, node, current)
            param = next((p for p in current.params if p.arg == name), None)
            if param is not None:
                return self.param_value(param, current)
            if name in current.local_defs:
                return Value(ref=f"<local>.{name}")
            current = current.parent
        return self._global(name)

    def _keyed_only(self, name: str, node: ast.expr, scope: Scope) -> Value:
        """`x["k"] = v` without `x = ...` here: x is from outside, with keys added."""
        outer = (
            self.name_value(name, node, scope.parent)
            if scope.parent is not None
            else self._global(name)
        )
        if outer.type is not None or outer.ref is not None:
            return outer
        added = self._bound(name, scope)
        return replace(outer, keys=_merge_keys([outer, added]))

    def _global(self, name: str) -> Value:
        if name in self.classes:
            return Value(ref=f"<class>.{name}")
        qual = self.imports.get(name)
        if qual is not None:
            return ref_value(qual)
        return Value(ref=f"<builtin>.{name}")

    def _bound(self, name: str, scope: Scope) -> Value:
        whole: list[Value] = []
        extra: list[tuple[str, Value]] = []
        for binding in scope.bindings[name]:
            value = self.eval(binding.expr, scope)
            if binding.key is not None:
                extra.append((binding.key, value))
            elif binding.whole:
                whole.append(value)
            else:
                whole.append(_element_of(value))
        base = join(whole)
        if extra:
            base = replace(base, keys=_merge_keys([base, Value(keys=tuple(extra))]))
        return base

    def param_value(self, param: ast.arg, scope: Scope) -> Value:
        func = scope.node
        assert isinstance(func, ast.FunctionDef | ast.AsyncFunctionDef)
        annotated = self._annotated_type(param)
        if annotated is not None:
            return Value(type=annotated)
        if self.is_route(func):
            return self._route_param(param, func)
        index = scope.params.index(param)
        if self.func_class.get(id(func)) is not None and index == 0:
            return Value(type=f"<self>.{self.func_class[id(func)]}")
        if self._django_view_request(func, param, index):
            return Value(type=lib.REQUEST)
        args = [
            self._argument(call, caller, func, param, index)
            for call, caller in self.call_sites.get(id(func), [])
        ]
        origin = Origin(Kind.PARAM, _line(param), _col(param), key=param.arg)
        return join([Value(origins=frozenset({origin})), *args])

    def _django_view_request(self, func: FuncNode, param: ast.arg, index: int) -> bool:
        """A Django view's first argument, recognised by the HttpRequest API it uses."""
        first = 1 if self.func_class.get(id(func)) is not None else 0
        if index != first or param.annotation is not None or not self.uses("django"):
            return False
        memo_key = (id(func), param.arg)
        if memo_key not in self._django_memo:
            self._django_memo[memo_key] = self._uses_request_api(func, param)
        return self._django_memo[memo_key]

    def _uses_request_api(self, func: FuncNode, param: ast.arg) -> bool:
        for node in self.own_nodes(func):
            if (
                isinstance(node, ast.Attribute)
                and isinstance(node.value, ast.Name)
                and node.value.id == param.arg
                and node.attr in lib.DJANGO_REQUEST_ATTRS
            ):
                return True
        return False

    def _argument(
        self, call: ast.Call, caller: Scope, func: FuncNode, param: ast.arg, index: int
    ) -> Value:
        offset = 1 if self.func_class.get(id(func)) is not None else 0
        for kw in call.keywords:
            if kw.arg == param.arg:
                return self.eval(kw.value, caller)
        position = index - offset
        if 0 <= position < len(call.args) and not isinstance(call.args[position], ast.Starred):
            return self.eval(call.args[position], caller)
        return EMPTY

    def _annotated_type(self, param: ast.arg) -> str | None:
        ann = param.annotation
        if ann is None:
            return None
        qual = self.qualname_of(ann) or (ann.id if isinstance(ann, ast.Name) else None)
        if qual is None:
            return None
        if qual in lib.REQUEST_CLASSES or qual.split(".")[-1] in ("Request", "HttpRequest"):
            return lib.REQUEST
        if isinstance(ann, ast.Name) and ann.id in self.classes and ann.id not in self.imports:
            return f"<self>.{ann.id}"  # an instance of a class of this module: its methods
        return lib.CONSTRUCTORS.get(qual)

    def _route_param(self, param: ast.arg, func: FuncNode) -> Value:
        default = _default_of(func, param)
        origin_kind = Kind.REQUEST
        if isinstance(default, ast.Call):
            qual = (self.qualname_of(default.func) or "").split(".")[-1]
            if qual == "Depends":
                return EMPTY
            origin_kind = {"Cookie": Kind.COOKIE, "Header": Kind.HEADER}.get(qual, Kind.REQUEST)
        if self._looks_like_request(param, func):
            return Value(type=lib.REQUEST)
        maybe_none = isinstance(default, ast.Constant) and default.value is None
        origin = Origin(origin_kind, _line(param), _col(param), param.arg, maybe_none=maybe_none)
        return Value(origins=frozenset({origin}))

    def _looks_like_request(self, param: ast.arg, func: FuncNode) -> bool:
        """Django views and Starlette endpoints take the request as first argument."""
        if not self.uses("django", "starlette", "fastapi"):
            return False
        first = [*func.args.posonlyargs, *func.args.args]
        if not first:
            return False
        owner = self.func_class.get(id(func))
        index = 1 if owner is not None else 0
        return (
            len(first) > index
            and first[index] is param
            and param.annotation is None
            and (self.uses("django") or not self.uses("fastapi"))
        )

    def inline_call(self, func: FuncNode, call: ast.Call, scope: Scope, bound_self: bool) -> Value:
        """Evaluate a module function's return value with this call's arguments."""
        if scope.depth >= MAX_INLINE_DEPTH:
            return self.returns_of(func, self.scopes[id(func)])
        base = self.scopes[id(func)]
        args = self._bind_args(func, call, scope, base, bound_self)
        memo_key = (id(func), tuple(args.values()))
        cached = self._inline_memo.get(memo_key)
        if cached is not None:
            return cached
        self._inline_memo[memo_key] = EMPTY
        special = base.specialise(args, scope.depth + 1)
        value = self.returns_of(func, special)
        self._inline_memo[memo_key] = value
        return value

    def _bind_args(
        self, func: FuncNode, call: ast.Call, scope: Scope, base: Scope, bound_self: bool
    ) -> dict[str, Value]:
        params = base.params[1:] if bound_self else base.params
        bound: dict[str, Value] = {}
        for param, arg in zip(params, call.args, strict=False):
            if isinstance(arg, ast.Starred):
                break
            bound[param.arg] = self.eval(arg, scope)
        for kw in call.keywords:
            if kw.arg is not None and any(p.arg == kw.arg for p in params):
                bound[kw.arg] = self.eval(kw.value, scope)
        for param in params:
            if param.arg not in bound:
                default = _default_of(func, param)
                bound[param.arg] = self.eval(default, base) if default is not None else EMPTY
        return bound

    def returns_of(self, func: FuncNode, scope: Scope) -> Value:
        values = [
            self.eval(stmt.value, scope)
            for stmt in _own_statements(func.body)
            if isinstance(stmt, ast.Return) and stmt.value is not None
        ]
        return join(values)

    def class_attr(self, cls: str, attr: str) -> Value | None:
        for current in self._class_and_bases(cls):
            entries = self.class_attrs.get((current, attr))
            if entries:
                return join(self.eval(expr, scope) for expr, scope in entries)
        return None

    def session_read(self, key: str | None, node: ast.AST, maybe_none: bool) -> Value:
        origin = Origin(Kind.SESSION, _line(node), _col(node), key, maybe_none=maybe_none)
        stored = [] if key is None else self.session_stores.get(key, [])
        values = [taint([self.eval(expr, scope)]) for expr, scope in stored]
        return join([Value(origins=frozenset({origin})), *values])

    def cookie_read(self, key: str | None, node: ast.AST, maybe_none: bool) -> Value:
        stored = [] if key is None else self.cookie_stores.get(key, [])
        kind = Kind.SESSION if stored else Kind.COOKIE
        origin = Origin(kind, _line(node), _col(node), key, maybe_none=maybe_none)
        values = [taint([self.eval(expr, scope)]) for expr, scope in stored]
        return join([Value(origins=frozenset({origin})), *values])


def _route_callee(call: ast.Call) -> bool:
    func = call.func
    name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
    return name in ("Route", "path", "re_path")


_STORE_METHODS = frozenset({"setdefault", "update", "set_cookie"})


def _default_of(func: FuncNode, param: ast.arg) -> ast.expr | None:
    args = func.args
    positional = [*args.posonlyargs, *args.args]
    if param in positional:
        index = positional.index(param) - (len(positional) - len(args.defaults))
        return args.defaults[index] if index >= 0 else None
    if param in args.kwonlyargs:
        return args.kw_defaults[args.kwonlyargs.index(param)]
    return None


def _element_of(value: Value) -> Value:
    return Value(origins=value.origins, type=None)


const_str = _const_str


def ref_value(qual: str) -> Value:
    if qual in lib.REQUEST_PROXIES:
        return Value(type=lib.REQUEST, ref=qual)
    if qual in lib.SESSION_PROXIES:
        return Value(type=lib.SESSION, ref=qual)
    return Value(ref=qual)

"""The module index: what one parsed module contains, found without evaluating anything.

Imports and the frameworks they name, classes with their bases, methods and attributes,
the scope of every function (the names each body binds), parents and owning functions of
every node, route functions, and cheap summaries (string constants, identifiers) that let a
check skip a module that cannot contain what it looks for.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass

from valetkey.audit import frameworks as fw
from valetkey.audit.values import Value, const_str

FuncNode = ast.FunctionDef | ast.AsyncFunctionDef


@dataclass(frozen=True)
class Binding:
    """One way a name gets a value: `expr` assigned whole, or part of it (`whole` False:
    the item at `index` of an unpacked tuple, or an element of an iterable), or one `key` of
    it (`x["k"] = v`, `x.update(k=v)`, `x.setdefault("k", v)`), or all keys of a mapping
    merged into it (`spread`: `x.update(other)`)."""

    expr: ast.expr
    whole: bool = True
    key: str | None = None
    index: int | None = None
    spread: bool = False


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
                for s in own_statements(node.body)
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
    for stmt in own_statements(node.body):
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
            elif isinstance(element, ast.Name) and whole:
                scope.bindings.setdefault(element.id, []).append(Binding(value, False, None, index))
            else:
                _bind_target(scope, element, value, whole=False)
    elif isinstance(target, ast.Subscript) and isinstance(target.value, ast.Name):
        key = const_str(target.slice)
        if key is not None:
            scope.bindings.setdefault(target.value.id, []).append(Binding(value, True, key))
    elif isinstance(target, ast.Starred):
        _bind_target(scope, target.value, value, whole=False)


def _bind_update(scope: Scope, call: ast.Call) -> None:
    """`params.update(state=...)`, `params.update({"state": ...})`, `params.update(other)`
    and `params.setdefault("state", ...)` add keys to a name."""
    func = call.func
    if not (isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name)):
        return
    if func.attr not in ("update", "setdefault"):
        return
    added: list[Binding] = []
    if func.attr == "setdefault":
        key = const_str(call.args[0]) if len(call.args) == 2 else None
        if key is not None:
            added.append(Binding(call.args[1], True, key))
    else:
        for kw in call.keywords:
            added.append(Binding(kw.value, True, kw.arg, spread=kw.arg is None))
        for arg in call.args:
            added.extend(_update_bindings(arg))
    if added:
        scope.bindings.setdefault(func.value.id, []).extend(added)


def _update_bindings(arg: ast.expr) -> list[Binding]:
    if not isinstance(arg, ast.Dict):
        return [Binding(arg, True, spread=True)]
    found: list[Binding] = []
    for k, v in zip(arg.keys, arg.values, strict=True):
        key = const_str(k) if k is not None else None
        if key is not None:
            found.append(Binding(v, True, key))
        elif k is None:
            found.append(Binding(v, True, spread=True))
    return found


def own_statements(body: Sequence[ast.stmt]) -> Iterator[ast.stmt]:
    """Statements of a body, descending into blocks but not into nested defs or classes."""
    for stmt in body:
        yield stmt
        if isinstance(stmt, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            continue
        for name in ("body", "orelse", "finalbody"):
            yield from own_statements(getattr(stmt, name, []))
        for handler in getattr(stmt, "handlers", []):
            yield from own_statements(handler.body)
        for case in getattr(stmt, "cases", []):
            yield from own_statements(case.body)


def _own_walrus(body: Sequence[ast.stmt]) -> Iterator[ast.NamedExpr]:
    for stmt in own_statements(body):
        if isinstance(stmt, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            continue
        for name in stmt._fields:  # the statement's own expressions, not nested blocks
            field = getattr(stmt, name, None)
            for item in field if isinstance(field, list) else [field]:
                if isinstance(item, ast.expr):
                    yield from (n for n in ast.walk(item) if isinstance(n, ast.NamedExpr))


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


class ModuleIndex:
    """One parsed module, indexed."""

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
        self._method_names: frozenset[str] | None = None
        self.frameworks: set[str] = set()
        self._owner: dict[int, ast.AST] = {}
        self._own_nodes: dict[int, list[ast.AST]] | None = None
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
                parent = self.parents.get(id(node))
                # a method belongs to its class, not to the scope around the class
                owner = (
                    id(parent) if isinstance(parent, ast.ClassDef) else id(self._owner[id(node)])
                )
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
        for stmt in own_statements(func.body):
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
            elif self._is_route_registration(call):
                self._mark_handlers(call)
        for info in self.classes.values():
            if self._is_handler_class(info):
                for stmt in info.node.body:
                    if isinstance(stmt, ast.FunctionDef | ast.AsyncFunctionDef) and (
                        stmt.name in fw.HANDLER_METHODS or fw.RESPONDER.fullmatch(stmt.name)
                    ):
                        self.route_funcs.add(id(stmt))

    def _is_route_registration(self, call: ast.Call) -> bool:
        """`app.router.add_get(path, handler)`, `app.add_url_rule(..., view_func=f)`,
        `web.get(path, handler)` (aiohttp), `config.add_view(view, ...)` ..."""
        func = call.func
        name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
        if name in fw.ROUTE_REGISTRATIONS:
            return True
        return (self.qualname_of(func) or "").startswith("aiohttp.web.")

    def _mark_handlers(self, call: ast.Call) -> None:
        for cand in [*call.args, *(k.value for k in call.keywords)]:
            if isinstance(cand, ast.Name):
                func = self.module_scope.local_defs.get(cand.id)
                if func is not None:
                    self.route_funcs.add(id(func))

    def _is_handler_class(self, info: ClassInfo) -> bool:
        """A class-based handler: Tornado `RequestHandler`, Django/DRF `View`s, Flask
        `MethodView`, Sanic `HTTPMethodView`, Starlette `HTTPEndpoint`, Litestar
        `Controller`, or a Falcon resource (a class with `on_get`-style responders)."""
        bases = {b.rsplit(".", 1)[-1] for b in self.class_and_bases(info.name) if b != info.name}
        bases |= {b.rsplit(".", 1)[-1] for b in info.bases}
        if bases & fw.HANDLER_BASES:
            return True
        return self.uses("falcon") and any(
            isinstance(s, ast.FunctionDef | ast.AsyncFunctionDef) and fw.RESPONDER.fullmatch(s.name)
            for s in info.node.body
        )

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
        if isinstance(target, ast.Attribute) and target.attr in fw.ROUTE_DECORATORS:
            return isinstance(deco, ast.Call)
        qual = self.qualname_of(target) or ""
        return qual.startswith(fw.ROUTE_DECORATOR_QUALNAMES)

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

    def class_and_bases(self, cls: str) -> Iterator[str]:
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

    def library_bases(self, cls: str) -> list[str]:
        """Qualified names of the library classes a class of the module derives from."""
        found: list[str] = []
        for current in self.class_and_bases(cls):
            info = self.classes.get(current)
            for base in info.bases if info is not None else ():
                head, _, rest = base.partition(".")
                if head in self.imports and head not in self.classes:
                    found.append(f"{self.imports[head]}.{rest}" if rest else self.imports[head])
        return found

    def find_method(self, cls: str, name: str) -> FuncNode | None:
        for current in self.class_and_bases(cls):
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


def _route_callee(call: ast.Call) -> bool:
    func = call.func
    name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
    return (
        name in ("Route", "path", "re_path")
        or name in fw.ROUTE_REGISTRATIONS
        or name
        in (
            "get",
            "post",
            "put",
            "delete",
            "patch",
            "route",
            "view",
        )
    )


def default_of(func: FuncNode, param: ast.arg) -> ast.expr | None:
    """The default value of a parameter, if it has one."""
    args = func.args
    positional = [*args.posonlyargs, *args.args]
    if param in positional:
        index = positional.index(param) - (len(positional) - len(args.defaults))
        return args.defaults[index] if index >= 0 else None
    if param in args.kwonlyargs:
        return args.kw_defaults[args.kwonlyargs.index(param)]
    return None


def kwarg(call: ast.Call, name: str) -> ast.expr | None:
    """The value of keyword argument `name` of a call."""
    for kw in call.keywords:
        if kw.arg == name:
            return kw.value
    return None


def argument(call: ast.Call, index: int, name: str) -> ast.expr | None:
    """An argument given by keyword, or else at this position."""
    found = kwarg(call, name)
    if found is not None:
        return found
    if index < len(call.args) and not isinstance(call.args[index], ast.Starred):
        return call.args[index]
    return None

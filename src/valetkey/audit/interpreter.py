"""The interpreter: evaluates one module's expressions to abstract values.

It knows Python, not libraries: names and their bindings, attributes, subscripts, dict and
sequence displays, f-strings and `+`/`%` on strings, calls into the module's own functions
(inlined with this call's arguments, a few levels deep), classes and their attributes, and
parameters (joined over the module's call sites). What a library call, a framework object's
attribute or item, or a framework-injected parameter means comes from a `Semantics` table
that the models in `valetkey.audit.models` register into; the interpreter imports none of
them.

The analysis is flow-insensitive inside a function (a name's value is the join of everything
assigned to it), which over-approximates provenance; checks that need statement order (a
state comparison that must stop the flow, a removal from the session) walk the AST themselves.
"""

from __future__ import annotations

import ast
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import TypeVar

from valetkey.audit.index import Callee, FuncNode, ModuleIndex, Scope, default_of, own_statements
from valetkey.audit.values import (
    EMPTY,
    Kind,
    Origin,
    Value,
    const_str,
    derived,
    join,
    literal,
    merge_keys,
    query_keys,
    taint,
)

MAX_INLINE_DEPTH = 3
MAX_EVAL_DEPTH = 120  # nested evaluations; keeps far below Python's recursion limit
SELF_PREFIX = "<self>."  # the type tag of an instance of one of the module's classes
T = TypeVar("T")

FunctionRule = Callable[["Interpreter", str, ast.Call, Scope], Value]
MethodRule = Callable[["Interpreter", Value, str, ast.Call, Scope], "Value | None"]
AttributeRule = Callable[["Interpreter", Value, str, ast.AST, Scope], "Value | None"]
ItemRule = Callable[["Interpreter", "Item"], "Value | None"]
ParamRule = Callable[["Interpreter", FuncNode, ast.arg, Scope], "Value | None"]
RefRule = Callable[[str], "Value | None"]


@dataclass(frozen=True)
class Item:
    """A lookup `base[key]` or `base.get(key, default)`; `key_value` when the key is known
    only at run time."""

    base: Value
    key: str | None
    node: ast.AST
    maybe_none: bool
    default: Value | None
    key_value: Value | None = None

    def with_default(self, value: Value) -> Value:
        return join([value, self.default]) if self.default is not None else value


@dataclass
class Semantics:
    """The table of library meaning the interpreter consults, filled in by the models."""

    functions: dict[str, FunctionRule] = field(default_factory=dict)
    function_patterns: list[tuple[Callable[[str], bool], FunctionRule]] = field(
        default_factory=list
    )
    methods: list[MethodRule] = field(default_factory=list)
    attributes: list[AttributeRule] = field(default_factory=list)
    items: list[ItemRule] = field(default_factory=list)
    item_fallbacks: list[ItemRule] = field(default_factory=list)
    params: list[ParamRule] = field(default_factory=list)
    refs: list[RefRule] = field(default_factory=list)
    mapping_types: set[str] = field(default_factory=set)

    def function(self, *names: str) -> Callable[[FunctionRule], FunctionRule]:
        """Register a rule for calls of these qualified names."""

        def register(rule: FunctionRule) -> FunctionRule:
            for name in names:
                self.functions[name] = rule
            return rule

        return register

    def function_matching(
        self, predicate: Callable[[str], bool]
    ) -> Callable[[FunctionRule], FunctionRule]:
        """Register a rule for calls whose qualified name satisfies `predicate` (tried in
        registration order, after the exact names)."""

        def register(rule: FunctionRule) -> FunctionRule:
            self.function_patterns.append((predicate, rule))
            return rule

        return register

    def function_rule(self, qual: str) -> FunctionRule | None:
        exact = self.functions.get(qual)
        if exact is not None:
            return exact
        return next((rule for pred, rule in self.function_patterns if pred(qual)), None)


class Interpreter(ModuleIndex):
    """A module index with an evaluator over it."""

    def __init__(self, tree: ast.Module, semantics: Semantics) -> None:
        super().__init__(tree)
        self.semantics = semantics
        self._call_sites: dict[int, list[tuple[ast.Call, Scope]]] | None = None
        self._memo: dict[tuple[int, int], Value] = {}
        self._busy: set[tuple[int, int]] = set()
        self._inline_memo: dict[tuple[int, tuple[Value, ...]], Value] = {}
        self._model_memo: dict[str, object] = {}

    def forget_values(self) -> None:
        """Drop every value computed so far: a model has just finished indexing facts that
        values computed meanwhile saw only in part."""
        self._memo.clear()
        self._inline_memo.clear()

    def memo(self, name: str, build: Callable[[], T]) -> T:
        """A per-module fact a model computes once (`name` is the model's own key)."""
        if name not in self._model_memo:
            self._model_memo[name] = build()
        return self._model_memo[name]  # type: ignore[return-value]

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
            handler = _HANDLERS.get(type(node))
            if handler is not None:
                value = handler(self, node, scope)
            else:
                children = [
                    self.eval(c, scope)
                    for c in ast.iter_child_nodes(node)
                    if isinstance(c, ast.expr)
                ]
                value = taint(children)
        finally:
            self._busy.discard(memo_key)
        self._memo[memo_key] = value
        return value

    def name_value(self, name: str, node: ast.expr, scope: Scope) -> Value:
        current: Scope | None = scope
        while current is not None:
            if name in current.overrides:
                return current.overrides[name]
            if name in current.bindings:
                if any(b.key is None and not b.spread for b in current.bindings[name]):
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
        return replace(outer, keys=merge_keys([outer, added]), open=outer.open or added.open)

    def _global(self, name: str) -> Value:
        if name in self.classes:
            return Value(ref=f"<class>.{name}")
        qual = self.imports.get(name)
        if qual is not None:
            return self.ref_value(qual)
        return Value(ref=f"<builtin>.{name}")

    def ref_value(self, qual: str) -> Value:
        """The value of an imported name or an attribute chain of one."""
        for rule in self.semantics.refs:
            found = rule(qual)
            if found is not None:
                return found
        return Value(ref=qual)

    def _bound(self, name: str, scope: Scope) -> Value:
        whole: list[Value] = []
        extra: list[tuple[str, Value]] = []
        spread: list[Value] = []
        for binding in scope.bindings[name]:
            value = self.eval(binding.expr, scope)
            if binding.spread:
                spread.append(value)
            elif binding.key is not None:
                extra.append((binding.key, value))
            elif binding.whole:
                whole.append(value)
            else:
                whole.append(_unpacked(value, binding.index))
        base = join(whole)
        if extra or spread:
            added = [base, Value(keys=tuple(extra)), *spread]
            opened = base.open or any(_unknown_keys(v) for v in spread)
            base = replace(base, keys=merge_keys(added), open=opened)
        return base

    # --- parameters ----------------------------------------------------------------------------
    def param_value(self, param: ast.arg, scope: Scope) -> Value:
        func = scope.node
        assert isinstance(func, ast.FunctionDef | ast.AsyncFunctionDef)
        for rule in self.semantics.params:
            found = rule(self, func, param, scope)
            if found is not None:
                return found
        own = self._own_class_annotation(param)
        if own is not None:
            return Value(type=own)
        index = scope.params.index(param)
        if self.func_class.get(id(func)) is not None and index == 0:
            return Value(type=f"{SELF_PREFIX}{self.func_class[id(func)]}")
        args = [
            self._argument(call, caller, func, param, index)
            for call, caller in self.call_sites.get(id(func), [])
        ]
        origin = Origin(Kind.PARAM, _line(param), _col(param), key=param.arg)
        return join([Value(origins=frozenset({origin})), *args])

    def _own_class_annotation(self, param: ast.arg) -> str | None:
        """An instance of a class of this module, by annotation: its methods are known."""
        ann = param.annotation
        if isinstance(ann, ast.Name) and ann.id in self.classes and ann.id not in self.imports:
            return f"{SELF_PREFIX}{ann.id}"
        return None

    def annotation_qualname(self, param: ast.arg) -> str | None:
        ann = param.annotation
        if ann is None:
            return None
        return self.qualname_of(ann) or (ann.id if isinstance(ann, ast.Name) else None)

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

    @property
    def call_sites(self) -> dict[int, list[tuple[ast.Call, Scope]]]:
        """Call sites of the module's functions and methods (found once, on first use)."""
        if self._call_sites is None:
            self._call_sites = {}
            self._index_call_sites(self._call_sites)
            self.forget_values()  # what was evaluated while indexing saw some sites only
        return self._call_sites

    def _index_call_sites(self, sites: dict[int, list[tuple[ast.Call, Scope]]]) -> None:
        calls = [n for n in self.nodes if isinstance(n, ast.Call)]
        pending: list[ast.Call] = []
        for call in calls:  # first the call graph, which evaluation relies on
            target = self._local_target(call.func, self.scope_of(call))
            if target is None and isinstance(call.func, ast.Name) and call.func.id in self.classes:
                target = self.find_method(call.func.id, "__init__")  # `C(...)` calls __init__
            if target is not None:
                sites.setdefault(id(target), []).append((call, self.scope_of(call)))
            elif isinstance(call.func, ast.Attribute) and self._local_method_name(call.func.attr):
                pending.append(call)
        for call in pending:  # then methods called on instances of the module's classes
            assert isinstance(call.func, ast.Attribute)
            receiver = self.eval(call.func.value, self.scope_of(call))
            if receiver.type is not None and receiver.type.startswith(SELF_PREFIX):
                method = self.find_method(receiver.type.split(".", 1)[1], call.func.attr)
                if method is not None:
                    sites.setdefault(id(method), []).append((call, self.scope_of(call)))

    # --- calls into the module -------------------------------------------------------------------
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
                default = default_of(func, param)
                bound[param.arg] = self.eval(default, base) if default is not None else EMPTY
        if func.args.kwarg is not None:  # `**kwargs`: the keywords no parameter takes
            named = {p.arg for p in params}
            extra = [kw for kw in call.keywords if kw.arg not in named]
            bound[func.args.kwarg.arg] = self.keyword_fields(extra, scope)
        return bound

    def keyword_fields(self, keywords: list[ast.keyword], scope: Scope) -> Value:
        """Keyword arguments as the keys of a value; `**spread` adds the spread's keys."""
        named = [Value(keys=((kw.arg, self.eval(kw.value, scope)),)) for kw in keywords if kw.arg]
        spread = [self.eval(kw.value, scope) for kw in keywords if kw.arg is None]
        merged = merge_keys([*named, *spread])
        return Value(keys=merged, open=any(_unknown_keys(s) for s in spread))

    def returns_of(self, func: FuncNode, scope: Scope) -> Value:
        values = [
            self.eval(stmt.value, scope)
            for stmt in own_statements(func.body)
            if isinstance(stmt, ast.Return) and stmt.value is not None
        ]
        return join(values)

    def class_attr(self, cls: str, attr: str) -> Value | None:
        for current in self.class_and_bases(cls):
            entries = self.class_attrs.get((current, attr))
            if entries:
                return join(self.eval(expr, scope) for expr, scope in entries)
        return None

    def key_text(self, node: ast.expr, scope: Scope) -> str | None:
        """A key given as a literal, as a name bound to a known text, or as an imported
        constant (named by its qualified name, the same symbol wherever it is used)."""
        literal_key = const_str(node)
        if literal_key is not None or not isinstance(node, ast.Name | ast.Attribute):
            return literal_key
        text = self.eval(node, scope).text
        if text is not None:
            return text
        qual = self.qualname_of(node)
        return f"@{qual}" if qual else None

    # --- attributes and items ------------------------------------------------------------------
    def attribute_of(self, base: Value, attr: str, node: ast.AST, scope: Scope) -> Value:
        if base.ref is not None and base.type is None:
            return self._ref_attribute(base.ref, attr)
        if base.type is not None and base.type.startswith(SELF_PREFIX):
            field = base.key(attr)
            if field is not None:
                return field  # this instance's own field
            found = self.class_attr(base.type.split(".", 1)[1], attr)
            if found is not None:
                return found
            prop = self._property(base.type.split(".", 1)[1], attr)
            if prop is not None:
                return self.returns_of(prop, self.scopes[id(prop)])
            for rule in self.semantics.attributes:  # inherited from a framework class
                ruled = rule(self, base, attr, node, scope)
                if ruled is not None:
                    return ruled
            return Value(type=f"<selfattr>.{attr}", origins=base.origins)
        for rule in self.semantics.attributes:
            ruled = rule(self, base, attr, node, scope)
            if ruled is not None:
                return ruled
        if base.type is not None and base.ref is not None:
            return self._ref_attribute(base.ref, attr)
        item = base.key(attr)
        if item is not None:
            return item
        return Value(origins=base.origins)

    def _ref_attribute(self, ref: str, attr: str) -> Value:
        qual = f"{ref}.{attr}"
        if ref.startswith("<class>."):
            found = self.class_attr(ref.split(".", 1)[1], attr)
            return found if found is not None else Value(ref=qual)
        return self.ref_value(qual)

    def item_of(self, item: Item) -> Value:
        """`base[key]` or `base.get(key, default)`."""
        for rule in self.semantics.items:
            ruled = rule(self, item)
            if ruled is not None:
                return ruled
        if item.key is not None:
            found = item.base.key(item.key)
            if found is not None:
                return item.with_default(found)
        for rule in self.semantics.item_fallbacks:
            ruled = rule(self, item)
            if ruled is not None:
                return ruled
        if item.key is None and item.key_value is not None and item.base.keys:
            # a key known only at run time: one of the entries (`PROVIDERS[name]`)
            return item.with_default(join(v for _, v in item.base.keys))
        return item.with_default(Value(origins=item.base.origins))

    # --- calls -----------------------------------------------------------------------------------
    def resolve(self, call: ast.Call, scope: Scope) -> Callee:
        """What a call calls: a module function or method, a class, a library name, or a
        method of a value."""
        func = call.func
        if isinstance(func, ast.Name):
            return self._resolve_name(func, scope)
        if isinstance(func, ast.Attribute):
            return self._resolve_attribute(func, scope)
        return Callee()

    def _resolve_name(self, func: ast.Name, scope: Scope) -> Callee:
        local = self.lookup_def(func.id, scope)
        if local is not None:
            return Callee(qualname=f"<local>.{func.id}", local=local)
        if func.id in self.classes:
            return Callee(qualname=f"<class>.{func.id}", local_class=func.id)
        value = self.name_value(func.id, func, scope)
        if value.ref is not None and not value.ref.startswith("<local>"):
            return Callee(qualname=value.ref if not value.ref.startswith("<builtin>.") else func.id)
        return Callee(qualname=None, receiver=value)

    def _resolve_attribute(self, func: ast.Attribute, scope: Scope) -> Callee:
        if isinstance(func.value, ast.Name):
            local_method = self._method_target(func, scope)
            if local_method is not None:
                receiver = self.eval(func.value, scope)
                return Callee(method=func.attr, local=local_method, receiver=receiver)
        receiver = self.eval(func.value, scope)
        if receiver.type is not None and receiver.type.startswith(SELF_PREFIX):
            method = self.find_method(receiver.type.split(".", 1)[1], func.attr)
            if method is not None:
                return Callee(method=func.attr, local=method, receiver=receiver)
        if receiver.ref is not None and receiver.type is None:
            qual = f"{receiver.ref}.{func.attr}"
            if receiver.ref.startswith("<class>."):
                method = self.find_method(receiver.ref.split(".", 1)[1], func.attr)
                if method is not None:
                    return Callee(qualname=qual, method=func.attr, local=method)
            return Callee(qualname=qual, method=func.attr)
        return Callee(method=func.attr, receiver=receiver)

    def _method_target(self, func: ast.Attribute, scope: Scope) -> FuncNode | None:
        assert isinstance(func.value, ast.Name)
        if scope.params and scope.params[0].arg == func.value.id and scope.cls is not None:
            return self.find_method(scope.cls, func.attr)
        return None

    def call_value(self, node: ast.Call, scope: Scope) -> Value:
        callee = self.resolve(node, scope)
        if callee.local is not None:
            bound = callee.method is not None and not (callee.qualname or "").startswith("<class>")
            return self.inline_call(callee.local, node, scope, bound_self=bound)
        if callee.local_class is not None:
            fields = self._instance_fields(callee.local_class, node, scope)
            return Value(type=f"{SELF_PREFIX}{callee.local_class}", ctor=node, keys=fields)
        if callee.qualname is not None:
            rule = self.semantics.function_rule(callee.qualname)
            if rule is not None:
                return rule(self, callee.qualname, node, scope)
            return self.unknown_call(node, scope, None)
        if callee.method is not None and callee.receiver is not None:
            return self._method_call(callee.receiver, callee.method, node, scope)
        return self.unknown_call(node, scope, None)

    def _instance_fields(
        self, cls: str, call: ast.Call, scope: Scope
    ) -> tuple[tuple[str, Value], ...]:
        """The fields a constructor call gives an instance of a record class of the module
        (a dataclass, NamedTuple or attrs class: annotated fields and no `__init__`):
        positional arguments in field order, keywords by name."""
        if self.find_method(cls, "__init__") is not None:
            return ()  # `self.x = ...` in __init__: the class attributes say it
        names = self.record_fields(cls)
        if not names:
            return ()
        given: list[tuple[str, Value]] = []
        for name, arg in zip(names, call.args, strict=False):
            if isinstance(arg, ast.Starred):
                break
            given.append((name, self.eval(arg, scope)))
        given.extend(
            (kw.arg, self.eval(kw.value, scope))
            for kw in call.keywords
            if kw.arg is not None and kw.arg in names
        )
        return tuple(given)

    def _property(self, cls: str, attr: str) -> FuncNode | None:
        """A `@property` (or `functools.cached_property`) of the class: read as a value."""
        method = self.find_method(cls, attr)
        if method is None:
            return None
        for deco in method.decorator_list:
            name = deco.attr if isinstance(deco, ast.Attribute) else getattr(deco, "id", "")
            if name in ("property", "cached_property"):
                return method
        return None

    def record_fields(self, cls: str) -> list[str]:
        """Annotated fields of a class and its bases in the module, in declaration order."""
        names: list[str] = []
        for current in reversed(list(self.class_and_bases(cls))):
            info = self.classes.get(current)
            for stmt in info.node.body if info is not None else []:
                if (
                    isinstance(stmt, ast.AnnAssign)
                    and isinstance(stmt.target, ast.Name)
                    and stmt.target.id not in names
                ):
                    names.append(stmt.target.id)
        return names

    def _method_call(self, receiver: Value, method: str, call: ast.Call, scope: Scope) -> Value:
        if method in ("get", "pop", "setdefault", "getlist") and (
            receiver.type in self.semantics.mapping_types
            or (receiver.type is None and receiver.ref is None)
        ):
            return self.mapping_get(receiver, method, call, scope)
        for rule in self.semantics.methods:
            found = rule(self, receiver, method, call, scope)
            if found is not None:
                return found
        return self.unknown_call(call, scope, receiver)

    def mapping_get(self, receiver: Value, method: str, call: ast.Call, scope: Scope) -> Value:
        """`m.get(key, default)`, `m.pop(key[, default])`, `m.setdefault(key, default)`."""
        key = self.key_text(call.args[0], scope) if call.args else None
        key_value = self.eval(call.args[0], scope) if call.args and key is None else None
        default_node = call.args[1] if len(call.args) > 1 else _kwarg(call, "default")
        default = self.eval(default_node, scope) if default_node is not None else None
        is_none_default = default_node is None or (
            isinstance(default_node, ast.Constant) and default_node.value is None
        )
        maybe_none = (method == "get" and is_none_default) or (
            method == "pop" and default_node is not None and is_none_default
        )
        kept = default if not is_none_default else None
        return self.item_of(Item(receiver, key, call, maybe_none, kept, key_value))

    def call_args(self, call: ast.Call, scope: Scope) -> list[Value]:
        values = [self.eval(a, scope) for a in call.args]
        values.extend(self.eval(k.value, scope) for k in call.keywords)
        return values

    def unknown_call(self, call: ast.Call, scope: Scope, receiver: Value | None) -> Value:
        """An unknown call: its result depends on its inputs (their origins, marked derived:
        not the input itself); keyword arguments are kept as fields, so that
        `Settings(host=h).host` is `h` and not everything passed."""
        parts = derived(self.call_args(call, scope)).origins
        if receiver is not None:
            parts |= receiver.origins  # a method of a value answers with that value's data
        fields = self.keyword_fields(call.keywords, scope)
        return Value(origins=parts, keys=fields.keys, open=fields.open)


def _unpacked(value: Value, index: int | None) -> Value:
    """Item `index` of an unpacked value, when its items are known; else its provenance."""
    if index is not None and value.elements is not None and index < len(value.elements):
        return value.elements[index]
    return Value(origins=value.origins)


def _unknown_keys(value: Value) -> bool:
    """Is this a mapping whose keys are not (all) known? (`**value` then opens a dict.)"""
    return value.open or not value.keys


def _kwarg(call: ast.Call, name: str) -> ast.expr | None:
    return next((kw.value for kw in call.keywords if kw.arg == name), None)


def _line(node: ast.AST) -> int:
    return int(getattr(node, "lineno", 0))


def _col(node: ast.AST) -> int:
    return int(getattr(node, "col_offset", 0))


def origin_value(
    kind: Kind,
    node: ast.AST,
    key: str | None = None,
    bits: int | None = None,
    maybe_none: bool = False,
) -> Value:
    """A value with one origin, at `node`."""
    origin = Origin(kind, _line(node), _col(node), key, bits=bits, maybe_none=maybe_none)
    return Value(origins=frozenset({origin}))


# --- expressions ---------------------------------------------------------------------------------
def _constant(interp: Interpreter, node: ast.expr, scope: Scope) -> Value:
    assert isinstance(node, ast.Constant)
    if isinstance(node.value, str):
        return literal(node.value, node)
    return Value(text=None)


def _name(interp: Interpreter, node: ast.expr, scope: Scope) -> Value:
    assert isinstance(node, ast.Name)
    return interp.name_value(node.id, node, scope)


def _joined(interp: Interpreter, node: ast.expr, scope: Scope) -> Value:
    assert isinstance(node, ast.JoinedStr)
    parts: list[str | Value] = []
    for part in node.values:
        if isinstance(part, ast.Constant) and isinstance(part.value, str):
            parts.append(part.value)
        elif isinstance(part, ast.FormattedValue):
            parts.append(interp.eval(part.value, scope))
    return concat(parts, node)


def concat(parts: list[str | Value], node: ast.AST) -> Value:
    """Text joined from literal pieces and values (f-strings, `+`, `%`, `.format`)."""
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


def _binop(interp: Interpreter, node: ast.expr, scope: Scope) -> Value:
    assert isinstance(node, ast.BinOp)
    left = interp.eval(node.left, scope)
    right = interp.eval(node.right, scope)
    if isinstance(node.op, ast.Add) and (left.fragments or right.fragments):
        return concat([_as_part(left), _as_part(right)], node)
    if isinstance(node.op, ast.Mod) and left.text is not None:
        return concat([left.text, taint([right])], node)
    return taint([left, right])


def _as_part(value: Value) -> str | Value:
    if value.text is not None and value.type is None and not value.keys:
        return value if len(value.origins) > 1 else value.text
    return value


def _dict(interp: Interpreter, node: ast.expr, scope: Scope) -> Value:
    assert isinstance(node, ast.Dict)
    keys: list[tuple[str, Value]] = []
    merged: list[Value] = []
    for k, v in zip(node.keys, node.values, strict=True):
        value = interp.eval(v, scope)
        key = const_str(k) if k is not None else None
        if k is None:
            merged.append(value)
        elif key is not None:
            keys.append((key, value))
    base = join([Value(keys=tuple(keys)), *merged]) if merged else Value(keys=tuple(keys))
    return Value(
        origins=taint(v for _, v in keys).origins | base.origins,
        keys=base.keys,
        open=any(_unknown_keys(m) for m in merged),
    )


def _sequence(interp: Interpreter, node: ast.expr, scope: Scope) -> Value:
    assert isinstance(node, ast.List | ast.Tuple | ast.Set)
    items = [interp.eval(e, scope) for e in node.elts]
    texts = [i.text for i in items]
    frags = tuple(t for t in texts if t is not None)
    value = taint(items)
    return Value(origins=value.origins, fragments=frags, keys=_pairs(items), elements=tuple(items))


def _pairs(items: list[Value]) -> tuple[tuple[str, Value], ...]:
    """A list of (key, value) tuples, as passed to urlencode."""
    return tuple(
        (i.keys[0][0], i.keys[0][1]) for i in items if len(i.keys) == 1 and i.type == "<pair>"
    )


def _tuple(interp: Interpreter, node: ast.expr, scope: Scope) -> Value:
    assert isinstance(node, ast.Tuple)
    if len(node.elts) == 2:
        key = const_str(node.elts[0])
        if key is not None:
            second = interp.eval(node.elts[1], scope)
            return Value(
                origins=second.origins,
                keys=((key, second),),
                type="<pair>",
                fragments=(key, *second.fragments),
                elements=(interp.eval(node.elts[0], scope), second),
            )
    return _sequence(interp, node, scope)


def _attribute(interp: Interpreter, node: ast.expr, scope: Scope) -> Value:
    assert isinstance(node, ast.Attribute)
    base = interp.eval(node.value, scope)
    return interp.attribute_of(base, node.attr, node, scope)


def _subscript(interp: Interpreter, node: ast.expr, scope: Scope) -> Value:
    assert isinstance(node, ast.Subscript)
    base = interp.eval(node.value, scope)
    key = const_str(node.slice)
    key_value: Value | None = None
    if key is None and isinstance(node.slice, ast.expr):
        key_value = interp.eval(node.slice, scope)
        key = key_value.text
    return interp.item_of(Item(base, key, node, False, None, key_value))


def _await(interp: Interpreter, node: ast.expr, scope: Scope) -> Value:
    assert isinstance(node, ast.Await)
    return interp.eval(node.value, scope)


def _ifexp(interp: Interpreter, node: ast.expr, scope: Scope) -> Value:
    assert isinstance(node, ast.IfExp)
    return join([interp.eval(node.body, scope), interp.eval(node.orelse, scope)])


def _boolop(interp: Interpreter, node: ast.expr, scope: Scope) -> Value:
    assert isinstance(node, ast.BoolOp)
    return join(interp.eval(v, scope) for v in node.values)


def _named(interp: Interpreter, node: ast.expr, scope: Scope) -> Value:
    assert isinstance(node, ast.NamedExpr)
    return interp.eval(node.value, scope)


def _comprehension(interp: Interpreter, node: ast.expr, scope: Scope) -> Value:
    """`[f(x) for x in xs]`: what `f` makes of the elements of `xs` (each `x` carries the
    provenance of `xs`)."""
    assert isinstance(node, ast.ListComp | ast.GeneratorExp | ast.SetComp)
    inner = _comprehension_scope(interp, node.generators, scope)
    return taint([interp.eval(node.elt, inner)])


def _dict_comprehension(interp: Interpreter, node: ast.expr, scope: Scope) -> Value:
    """`{k: f(k) for k in ("A", "B")}` has the keys "A" and "B", each with its own value;
    over anything else, its keys are not known."""
    assert isinstance(node, ast.DictComp)
    literal_keys = _literal_loop(node)
    if literal_keys is None:
        inner = _comprehension_scope(interp, node.generators, scope)
        value = taint([interp.eval(node.key, inner), interp.eval(node.value, inner)])
        return Value(origins=value.origins, open=True)
    name, texts = literal_keys
    keys: list[tuple[str, Value]] = []
    for text, element in texts:
        inner = scope.specialise({**scope.overrides, name: literal(text, element)}, scope.depth)
        keys.append((text, interp.eval(node.value, inner)))
    return Value(origins=taint(v for _, v in keys).origins, keys=tuple(keys))


def _literal_loop(node: ast.DictComp) -> tuple[str, list[tuple[str, ast.expr]]] | None:
    if len(node.generators) != 1 or node.generators[0].ifs:
        return None
    gen = node.generators[0]
    if not (isinstance(gen.target, ast.Name) and isinstance(node.key, ast.Name)):
        return None
    if node.key.id != gen.target.id or not isinstance(gen.iter, ast.Tuple | ast.List):
        return None
    texts = [(const_str(e), e) for e in gen.iter.elts]
    if any(text is None for text, _ in texts):
        return None
    return gen.target.id, [(str(text), e) for text, e in texts]


def _comprehension_scope(
    interp: Interpreter, generators: list[ast.comprehension], scope: Scope
) -> Scope:
    """The scope of a comprehension's body: its loop names bound to elements (their
    provenance) of what they iterate over."""
    overrides = dict(scope.overrides)
    current = scope
    for gen in generators:
        element = Value(origins=interp.eval(gen.iter, current).origins)
        for target in ast.walk(gen.target):
            if isinstance(target, ast.Name):
                overrides[target.id] = element
        current = scope.specialise(overrides, scope.depth)
    return current


def _compare(interp: Interpreter, node: ast.expr, scope: Scope) -> Value:
    return EMPTY


def _call(interp: Interpreter, node: ast.expr, scope: Scope) -> Value:
    assert isinstance(node, ast.Call)
    return interp.call_value(node, scope)


_HANDLERS: dict[type[ast.AST], Callable[[Interpreter, ast.expr, Scope], Value]] = {
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
    ast.DictComp: _dict_comprehension,
    ast.Compare: _compare,
}

"""OA103 state-unverified."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass

from valetkey.audit import frameworks as fw
from valetkey.audit import libraries as lib
from valetkey.audit.analysis import Analysis
from valetkey.audit.index import FuncNode, Scope, argument, kwarg
from valetkey.audit.oauth import callbacks, stops, token_exchanges
from valetkey.audit.registry import AuditConfig, Hit, check
from valetkey.audit.values import Kind, Value

from ._helpers import bodies, calls_in, session_read_key


@check("OA103")
def state_unverified(module: Analysis, config: AuditConfig) -> Iterator[Hit]:
    """Flags: a callback (a function that reads the `code` parameter of the request, or a route
    that redeems a code) and the module functions it calls contain no comparison of the
    returned `state` with a value bound to the browser session (reported on the `def` line);
    or the comparison does not stop the flow when it fails, runs only when a state is
    present, compares against data of the same request (another parameter, or a cookie the
    app never set), or lets both sides be `None` (`args.get("state") != session.get(...)`).
    Bound to the session are the session itself, a cookie the module sets (by name, an
    imported constant included), the signed-in user, and server-side data looked up by one
    of these (a pending sign-in kept in a dict under the session id).
    Authlib's `authorize_access_token` and MSAL's `acquire_token_by_auth_code_flow` check
    state themselves; requests-oauthlib checks it when
    the session is built with the stored `state=` and given `authorization_response=`.
    Using the returned state only as the key of a lookup in data shared by all browsers (a
    dict, set or list the module creates at import time; a cache or store object whose
    result feeds the code exchange: `pending = PENDING.pop(state)`), never compared with a
    session-bound value, is no check either: the attacker's state finds the attacker's
    pending sign-in. Nor is checking only the state's own signature (itsdangerous `loads`,
    a JWT decode): every state the server signed passes. A callback that hands the
    returned state to a function of another module in any other way (its result discarded
    or tested, or the request or session passed along), or that forwards `**kwargs` to the
    exchange, is not judged (the check happens out of sight).
    """
    for func in callbacks(module):
        yield from verify_callback(module, func)


@dataclass(frozen=True)
class StateCheck:
    """A comparison of the returned state (`returned`) with another value (`other`)."""

    node: ast.expr
    returned: Value
    other: Value
    other_node: ast.expr
    equality: bool
    constant_time: bool
    func: FuncNode


def verify_callback(module: Analysis, func: FuncNode) -> Iterator[Hit]:
    scope = module.scopes[id(func)]
    exchanges = token_exchanges(module, func)
    if _library_checks_state(module, exchanges, scope) or _oauthlib_parses_state(module, func):
        return
    bad_session = _oauthlib_state_from_request(module, exchanges, scope)
    if bad_session is not None:
        yield Hit.at(bad_session, "the session is given the state of the callback request itself")
        return
    checks = state_checks(module, func)
    if not checks and _only_looked_up(module, func):
        yield Hit.at(func, _LOOKED_UP)
        return
    signature = _only_signature_checked(module, func) if not checks else None
    if signature is not None:
        yield Hit.at(signature, _SIGNED_ONLY)
        return
    if not checks and (_state_handed_off(module, func) or _forwards_kwargs(module, func)):
        return  # verified where we cannot see (another module), or not judged
    if not checks:
        yield Hit.at(func, "the callback never compares the returned `state` with the session")
        return
    for found in checks:
        problem = _problem(module, found, func)
        if problem is not None:
            yield Hit.at(found.node, problem)


def _state_handed_off(module: Analysis, func: FuncNode) -> bool:
    """The returned state is passed to a call we cannot follow (e.g. a lookup of the
    state's data in the session by a helper of another module)."""
    for call, scope in calls_in(module, func):
        qual = module.resolve(call, scope).qualname or ""
        if qual in ("print", "str", "repr") or qual.startswith("logging."):
            continue
        arguments = [*call.args, *(k.value for k in call.keywords)]
        if any(is_returned_state(module.eval(a, scope)) for a in arguments):
            return True
    return False


_LOOKED_UP = (
    "the returned `state` only selects which pending sign-in to use (a lookup in data shared "
    "by all browsers); it is never compared with the value bound to this browser session"
)
_SIGNED_ONLY = (
    "the returned `state` is only checked for a valid signature: any state the server ever "
    "signed passes, the attacker's own included; bind it to this browser's session"
)


def _only_signature_checked(module: Analysis, func: FuncNode) -> ast.Call | None:
    """Every hand-off of the returned state is to a signature check (itsdangerous
    `loads`/`unsign`, a JWT decode): the first of them, else None."""
    handoffs = [
        (call, scope)
        for call, scope in calls_in(module, func)
        if not _printing(module, call, scope) and _takes_state_itself(module, call, scope)
    ]
    if not handoffs or _forwards_kwargs(module, func):
        return None
    for call, scope in handoffs:
        callee = module.resolve(call, scope)
        signed = (callee.receiver_type, callee.method) in lib.SIGNATURE_CHECKS or (
            callee.qualname in lib.SIGNATURE_FUNCTIONS
        )
        if not signed:
            return None
    return handoffs[0][0]


_LOOKUP_NAMES = frozenset(
    {
        "find_one",
        "find",
        "get",
        "filter",
        "filter_by",
        "exists",
        "count",
        "count_documents",
        "first",
        "one_or_none",
        "get_or_none",
        "sismember",
        "hget",
        "getdel",
        "pop",
    }
)


def _lookup_helper(module: Analysis, call: ast.Call, scope: Scope) -> bool:
    """A helper of this module that only looks the state up in a store of its own
    (`db.states.find_one({"state": state})`), touching neither the session nor the
    request: any browser's state is found there."""
    callee = module.resolve(call, scope)
    helper = callee.local
    if helper is None or helper is module.enclosing_function(call):
        return False
    inner = module.scopes[id(helper)]
    lookups = 0
    for node in module.own_nodes(helper):
        if isinstance(node, ast.expr) and module.eval(node, inner).type in (fw.SESSION, fw.REQUEST):
            return False
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr in _LOOKUP_NAMES
            and not module.eval(node, inner).has(Kind.SESSION)
        ):
            lookups += 1
    return lookups > 0 and not _forwards_kwargs(module, helper)


def _global_container(module: Analysis, call: ast.Call, scope: Scope) -> bool:
    """A method of a dict, set or list the module creates at import time: one container
    shared by every request and every browser."""
    func = call.func
    if not (isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name)):
        return False
    name = func.value.id
    current: Scope | None = scope
    while current is not None and current.parent is not None:
        if name in current.bindings or any(p.arg == name for p in current.params):
            return False
        current = current.parent
    bindings = module.module_scope.bindings.get(name, [])
    return bool(bindings) and all(_container_display(b.expr) for b in bindings)


def _container_display(node: ast.expr) -> bool:
    if isinstance(node, ast.Dict | ast.Set | ast.List | ast.DictComp | ast.SetComp):
        return True
    if isinstance(node, ast.Call):
        name = (
            node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
        )
        return name in ("dict", "set", "list", "defaultdict", "OrderedDict", "deque")
    return False


_TRANSPARENT_METHODS = frozenset({"encode", "decode", "strip", "lower", "upper", "casefold"})
_DIRECT_DEPTH = 4
_OPAQUE_NODES = (
    ast.Lambda,
    ast.Attribute,
    ast.Subscript,
    ast.ListComp,
    ast.SetComp,
    ast.DictComp,
    ast.GeneratorExp,
)


def _only_looked_up(module: Analysis, func: FuncNode) -> bool:
    """The returned state is handed to calls only as the key of a lookup in server-side
    data that is not the browser's session, whose result feeds the code exchange and is
    never compared with a session-bound value: the state picks *a* pending sign-in, any
    browser's, and binds nothing (login CSRF). A hand-off that may be a check (the result
    discarded or tested, the request or the session passed along, a session-bound result)
    keeps the callback unjudged, as does a forwarded `**kwargs`."""
    handoffs = [
        (call, scope)
        for call, scope in calls_in(module, func)
        if not _printing(module, call, scope) and _takes_state_itself(module, call, scope)
    ]
    if not handoffs or _forwards_kwargs(module, func):
        return False
    by_helper = [(c, s) for c, s in handoffs if _lookup_helper(module, c, s)]
    helpers = {id(module.resolve(c, s).local) for c, s in by_helper}
    lookups = [
        (c, s)
        for c, s in handoffs
        if (c, s) in by_helper
        or _global_container(module, c, s)
        or _unbound_lookup(module, c, s, 0)
        or id(module.enclosing_function(c)) in helpers  # the lookup inside such a helper
    ]
    if len(lookups) < len(handoffs):
        return False  # another hand-off may check the state out of sight
    return not any(_compared_with_session(module, c, s) for c, s in lookups)


def _printing(module: Analysis, call: ast.Call, scope: Scope) -> bool:
    qual = module.resolve(call, scope).qualname or ""
    return qual in ("print", "str", "repr") or qual.startswith("logging.")


def _takes_state_itself(module: Analysis, call: ast.Call, scope: Scope) -> bool:
    """An argument is the returned state itself (not a value computed from it by a call)."""
    arguments = [*call.args, *(k.value for k in call.keywords)]
    return any(_direct_state(module, a, scope, 0) for a in arguments)


def _direct_state(module: Analysis, node: ast.expr, scope: Scope, depth: int) -> bool:
    if depth > _DIRECT_DEPTH or not is_returned_state(module.eval(node, scope)):
        return False
    if isinstance(node, ast.Starred):
        return _direct_state(module, node.value, scope, depth + 1)
    if _reads_state_here(module, node, scope):
        return True
    if isinstance(node, ast.Name):
        return _direct_name(module, node.id, scope, depth)
    if isinstance(node, ast.Call):
        callee = module.resolve(node, scope)
        parts = list(node.args)
        if isinstance(node.func, ast.Attribute) and callee.method in _TRANSPARENT_METHODS:
            parts.append(node.func.value)
        elif callee.qualname not in ("str", "bytes"):
            return False
        return any(_direct_state(module, p, scope, depth + 1) for p in parts)
    if isinstance(node, _OPAQUE_NODES):
        return False
    return any(
        _direct_state(module, child, scope, depth + 1)
        for child in ast.iter_child_nodes(node)
        if isinstance(child, ast.expr)
    )


def _reads_state_here(module: Analysis, node: ast.expr, scope: Scope) -> bool:
    """`node` is where the returned state is read from the request."""
    return any(
        o.kind is Kind.REQUEST and o.key == "state" and _near(o.line, o.col, node)
        for o in module.eval(node, scope).origins
    )


def _direct_name(module: Analysis, name: str, scope: Scope, depth: int) -> bool:
    current: Scope | None = scope
    while current is not None:
        if name in current.bindings:
            return any(
                _direct_state(module, b.expr, current, depth + 1) for b in current.bindings[name]
            )
        param = next((p for p in current.params if p.arg == name), None)
        if param is not None:
            return _direct_param(module, param, current, depth)
        current = current.parent
    return False


def _direct_param(module: Analysis, param: ast.arg, scope: Scope, depth: int) -> bool:
    value = module.param_value(param, scope)
    if any(
        o.kind is Kind.REQUEST and o.key == "state" and _near(o.line, o.col, param)
        for o in value.origins
    ):
        return True  # a route parameter
    func = scope.node
    assert isinstance(func, ast.FunctionDef | ast.AsyncFunctionDef)
    index = scope.params.index(param)
    offset = 1 if module.func_class.get(id(func)) is not None else 0
    for call, caller in module.call_sites.get(id(func), []):
        given = kwarg(call, param.arg)
        position = index - offset
        if given is None and 0 <= position < len(call.args):
            given = call.args[position]
        if given is not None and _direct_state(module, given, caller, depth + 1):
            return True
    return False


def _unbound_lookup(module: Analysis, call: ast.Call, scope: Scope, depth: int) -> bool:
    """The call looks data up by the state, in a store not bound to the browser session,
    and its result is used for the code exchange."""
    if _may_use_session(module, call, scope) or any(
        _carries_code(module.eval(a, scope))
        for a in [*call.args, *(k.value for k in call.keywords)]
    ):
        return False  # a lookup in the session, or a helper that completes the whole flow
    parent = module.parents.get(id(call))
    while isinstance(parent, ast.BoolOp | ast.IfExp | ast.Await):
        parent = module.parents.get(id(parent))
    if isinstance(parent, ast.Return) and depth < 2:
        owner = module.enclosing_function(call)
        sites = module.call_sites.get(id(owner), []) if owner is not None else []
        return bool(sites) and all(
            _unbound_lookup(module, site, caller, depth + 1) for site, caller in sites
        )
    owner = module.enclosing_function(call)
    return owner is not None and _feeds_exchange(module, call, owner)


def _may_use_session(module: Analysis, call: ast.Call, scope: Scope) -> bool:
    """The lookup may be in the session: it is given the request or the session, its
    receiver is the session, or its result is bound to the session already."""
    if module.eval(call, scope).has(Kind.SESSION):
        return True
    receiver = _receiver(module, call, scope)
    if receiver is not None and receiver.type in (fw.SESSION, fw.REQUEST):
        return True
    arguments = [*call.args, *(k.value for k in call.keywords)]
    return any(module.eval(a, scope).type in (fw.SESSION, fw.REQUEST) for a in arguments)


def _result_names(module: Analysis, call: ast.Call, func: FuncNode) -> set[str]:
    """Names of `func` that hold the call's result, or data derived from it."""
    names: set[str] = set()
    assigns = [
        n
        for n in module.own_nodes(func)
        if isinstance(n, ast.Assign | ast.AnnAssign | ast.NamedExpr) and n.value is not None
    ]
    changed = True
    while changed:
        changed = False
        for node in assigns:
            assert node.value is not None
            inside = any(sub is call for sub in ast.walk(node.value)) or any(
                isinstance(sub, ast.Name) and sub.id in names for sub in ast.walk(node.value)
            )
            if not inside:
                continue
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for target in targets:
                for sub in ast.walk(target):
                    if isinstance(sub, ast.Name) and sub.id not in names:
                        names.add(sub.id)
                        changed = True
    return names


def _feeds_exchange(module: Analysis, call: ast.Call, func: FuncNode) -> bool:
    """The call's result reaches the code exchange (or a call given the returned code)."""
    names = _result_names(module, call, func)
    scope = module.scopes[id(func)]
    sinks = list(token_exchanges(module, func))
    for node in module.own_nodes(func):
        if isinstance(node, ast.Call) and any(
            _carries_code(module.eval(a, scope))
            for a in [*node.args, *(k.value for k in node.keywords)]
        ):
            sinks.append(node)
    for sink in sinks:
        parts = [*sink.args, *(k.value for k in sink.keywords)]
        if isinstance(sink.func, ast.Attribute):
            parts.append(sink.func.value)
        for part in parts:
            for sub in ast.walk(part):
                if sub is call or (isinstance(sub, ast.Name) and sub.id in names):
                    return True
    return False


def _carries_code(value: Value) -> bool:
    return any(o.kind is Kind.REQUEST and o.key == "code" for o in value.origins)


def _compared_with_session(module: Analysis, call: ast.Call, scope: Scope) -> bool:
    """The looked-up data is compared with a session-bound value afterwards (e.g. the
    pending sign-in's browser id with this browser's)."""
    func = module.enclosing_function(call)
    if func is None:
        return False
    names = _result_names(module, call, func)
    for node in module.own_nodes(func):
        sides: list[ast.expr] = []
        if isinstance(node, ast.Compare) and len(node.ops) == 1:
            sides = [node.left, node.comparators[0]]
        elif (
            isinstance(node, ast.Call)
            and len(node.args) == 2
            and module.resolve(node, scope).qualname in lib.CONSTANT_TIME_COMPARE
        ):
            sides = list(node.args)
        if len(sides) != 2 or any(isinstance(side, ast.Constant) for side in sides):
            continue
        for index in (0, 1):
            mine, other = sides[index], sides[1 - index]
            mentions = any(
                sub is call or (isinstance(sub, ast.Name) and sub.id in names)
                for sub in ast.walk(mine)
            )
            if mentions and _session_bound(module.eval(other, module.scope_of(other))):
                return True
    return False


def _session_bound(value: Value) -> bool:
    """Bound to this browser: the session, or the user it is signed in as."""
    return (
        value.has(Kind.SESSION)
        or value.type == f"{fw.REQUEST}.user"
        or (value.ref in _SIGNED_IN_USERS)
    )


_SIGNED_IN_USERS = frozenset({"flask_login.current_user", "flask_login.utils.current_user"})


def _forwards_kwargs(module: Analysis, func: FuncNode) -> bool:
    """A call that forwards `**kwargs` may carry `authorization_response`: not judged."""
    return any(kw.arg is None for call, _ in calls_in(module, func, 0) for kw in call.keywords)


def _library_checks_state(
    module: Analysis, exchanges: list[ast.Call], scope: Scope, depth: int = 0
) -> bool:
    """Authlib, or a bound requests-oauthlib session, checks state in the exchange; also
    when the exchange happens in a module function the callback calls."""
    for call in exchanges:
        callee = module.resolve(call, scope)
        if (callee.receiver_type, callee.method) in lib.LIBRARY_STATE_CHECKS:
            return True
        if callee.receiver_type in _STATE_CHECKING_SESSIONS and _oauthlib_bound(
            module, call, scope
        ):
            return True
        if callee.local is not None and depth < 2:
            inner = token_exchanges(module, callee.local)
            if _library_checks_state(module, inner, module.scopes[id(callee.local)], depth + 1):
                return True
    return False


# requests-oauthlib and Authlib's client sessions compare the returned state with the one
# they were built with (or given) when they parse the full authorization response
_STATE_CHECKING_SESSIONS = frozenset({lib.OAUTH2SESSION, lib.AUTHLIB_SESSION})


def _oauthlib_parses_state(module: Analysis, func: FuncNode) -> bool:
    """oauthlib's `parse_request_uri_response(uri, state=stored)` raises when the returned
    state differs from the stored one."""
    for call, scope in calls_in(module, func):
        callee = module.resolve(call, scope)
        if (callee.receiver_type, callee.method) != (
            lib.OAUTHLIB_CLIENT,
            "parse_request_uri_response",
        ):
            continue
        given = argument(call, 1, "state")
        if given is not None and module.eval(given, scope).has(Kind.SESSION):
            return True
    return False


def _oauthlib_bound(module: Analysis, call: ast.Call, scope: Scope) -> bool:
    """requests-oauthlib checks state when the session has the stored state and the full
    authorization response URL is passed (not just `code=`)."""
    if kwarg(call, "authorization_response") is None or kwarg(call, "code") is not None:
        return False
    receiver = _receiver(module, call, scope)
    given = kwarg(call, "state")
    if given is not None:
        return module.eval(given, scope).has(Kind.SESSION)
    state = receiver.key("state") if receiver is not None else None
    return state is not None and state.has(Kind.SESSION)


def _oauthlib_state_from_request(
    module: Analysis, exchanges: list[ast.Call], scope: Scope
) -> ast.AST | None:
    for call in exchanges:
        receiver = _receiver(module, call, scope)
        value = receiver.key("state") if receiver is not None else None
        if receiver is None or receiver.ctor is None or value is None:
            continue
        if value.has(Kind.REQUEST) and not value.has(Kind.SESSION):
            return receiver.ctor
    return None


def _receiver(module: Analysis, call: ast.Call, scope: Scope) -> Value | None:
    if isinstance(call.func, ast.Attribute):
        return module.eval(call.func.value, scope)
    return None


def is_returned_state(value: Value) -> bool:
    return any(o.kind is Kind.REQUEST and o.key == "state" for o in value.origins)


def state_checks(module: Analysis, func: FuncNode) -> list[StateCheck]:
    found: list[StateCheck] = []
    for body in bodies(module, func):
        scope = module.scopes[id(body)]
        for node in module.own_nodes(body):
            found.extend(_as_check(module, node, scope, body))
    return found


def _as_check(module: Analysis, node: ast.AST, scope: Scope, func: FuncNode) -> list[StateCheck]:
    sides: list[ast.expr] = []
    equality = True
    constant_time = False
    if isinstance(node, ast.Compare) and len(node.ops) == 1:
        if not isinstance(node.ops[0], ast.Eq | ast.NotEq | ast.Is | ast.IsNot):
            return []
        sides = [node.left, node.comparators[0]]
        equality = isinstance(node.ops[0], ast.Eq | ast.Is)
    elif isinstance(node, ast.Call) and len(node.args) == 2:
        if module.resolve(node, scope).qualname not in lib.CONSTANT_TIME_COMPARE:
            return []
        sides = list(node.args)
        constant_time = True
    else:
        return []
    if any(isinstance(s, ast.Constant) for s in sides):
        return []  # a presence test (`state is None`), not a comparison of two states
    values = [module.eval(s, scope) for s in sides]
    for index in (0, 1):
        mine, other = values[index], values[1 - index]
        if (
            is_returned_state(mine)
            and not mine.has(Kind.SESSION)
            and (other.has(Kind.SESSION) or not is_returned_state(other))
        ):
            assert isinstance(node, ast.expr)
            return [StateCheck(node, mine, other, sides[1 - index], equality, constant_time, func)]
    return []


def stored_keys(module: Analysis, found: StateCheck) -> set[str]:
    """Session keys read by the stored side of the comparison itself (not its history),
    or by the one statement that assigned it (`expected = session.get("state")`)."""
    scope = module.scopes[id(found.func)]
    keys = _near_session_keys(module, [found.other_node], scope, everywhere=True)
    if isinstance(found.other_node, ast.Name):
        bindings = scope.bindings.get(found.other_node.id, [])
        if len(bindings) == 1 and bindings[0].whole and bindings[0].key is None:
            keys |= _near_session_keys(module, [bindings[0].expr], scope, everywhere=False)
    return keys


def _near_session_keys(
    module: Analysis, roots: list[ast.expr], scope: Scope, everywhere: bool
) -> set[str]:
    keys: set[str] = set()
    for node in (n for root in roots for n in ast.walk(root)):
        if not isinstance(node, ast.expr) or not (
            everywhere or session_read_key(module, node, scope) is not None
        ):
            continue
        value = module.eval(node, scope)
        keys |= {
            o.key
            for o in value.origins
            if o.kind is Kind.SESSION and o.key and _near(o.line, o.col, node)
        }
    return keys


def _near(line: int, col: int, node: ast.AST) -> bool:
    return (line, col) == (getattr(node, "lineno", -1), getattr(node, "col_offset", -1))


def _problem(module: Analysis, found: StateCheck, callback: FuncNode) -> str | None:
    if not _session_bound(found.other):
        return "the returned `state` is compared with data the attacker controls"
    if is_returned_state(found.other):
        return (
            "the stored state falls back to the returned one (`pop(key, state)`, "
            "`stored or state`), so a browser with nothing stored passes"
        )
    verdict = enforcement(module, found)
    if verdict is not None:
        return verdict
    if _both_may_be_none(found) and not _none_guarded(module, found, callback):
        return "both sides of the state comparison may be None, so a missing state passes"
    return None


def enforcement(module: Analysis, found: StateCheck) -> str | None:
    """None when a failed comparison stops the flow, else why it does not."""
    node: ast.AST = found.node
    parent = module.parents.get(id(node))
    while _passes_truth(parent):
        parent = module.parents.get(id(parent))
    if isinstance(parent, ast.Return) and found.func is not None:
        return _enforced_by_callers(module, found)
    while parent is not None and not isinstance(parent, ast.stmt):
        node, parent = parent, module.parents.get(id(parent))
    if isinstance(parent, ast.Assert):
        return None
    if isinstance(parent, ast.Assign) and isinstance(parent.targets[0], ast.Name):
        return _enforced_via_name(module, found, parent.targets[0].id)
    if not isinstance(parent, ast.If | ast.While):
        return "the state comparison's result is not used to stop the flow"
    return _judge_if(module, parent, found.node, found.equality, module.scope_of(parent))


def _passes_truth(node: ast.AST | None) -> bool:
    """`a and check` or `bool(check)` returned by a helper keep the check's meaning."""
    if isinstance(node, ast.BoolOp) and isinstance(node.op, ast.And):
        return True
    return isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "bool"


def _judge_if(
    module: Analysis, stmt: ast.If | ast.While, target: ast.AST, equality: bool, scope: Scope
) -> str | None:
    mode = _polarity(stmt.test, target, failure_when_true=not equality)
    if mode == "only-if-present":
        return "the state is checked only when present; a missing state passes"
    if mode == "stop-if-true":
        return None if stops(stmt.body, module, scope) else _NO_STOP
    if mode == "stop-if-false":
        if stops(stmt.orelse, module, scope) or _continues_inside(stmt.body):
            return None
        return _NO_STOP
    return _NO_STOP


_NO_STOP = "a failed state comparison does not stop the flow"


def _continues_inside(body: list[ast.stmt]) -> bool:
    return any(isinstance(n, ast.Return) for stmt in body for n in ast.walk(stmt))


def _polarity(test: ast.expr, target: ast.AST, failure_when_true: bool) -> str | None:
    if test is target:
        return "stop-if-true" if failure_when_true else "stop-if-false"
    if isinstance(test, ast.UnaryOp) and isinstance(test.op, ast.Not):
        inner = _polarity(test.operand, target, failure_when_true)
        flip = {"stop-if-true": "stop-if-false", "stop-if-false": "stop-if-true"}
        return flip.get(inner or "", inner)
    if isinstance(test, ast.BoolOp):
        for value in test.values:
            inner = _polarity(value, target, failure_when_true)
            if inner is None:
                continue
            if isinstance(test.op, ast.And) and inner == "stop-if-true":
                return "only-if-present"
            if isinstance(test.op, ast.Or) and inner == "stop-if-false":
                return "only-if-present"
            return inner
    return None


def _enforced_via_name(module: Analysis, found: StateCheck, name: str) -> str | None:
    for node in module.own_nodes(found.func):
        if isinstance(node, ast.If):
            for sub in ast.walk(node.test):
                if isinstance(sub, ast.Name) and sub.id == name:
                    return _judge_if(module, node, sub, found.equality, module.scope_of(node))
    return "the state comparison's result is not used to stop the flow"


def _enforced_by_callers(module: Analysis, found: StateCheck) -> str | None:
    """A helper returns the comparison: its callers must stop when it is false."""
    verdicts: list[str | None] = []
    for call, scope in module.call_sites.get(id(found.func), []):
        parent: ast.AST | None = module.parents.get(id(call))
        while parent is not None and not isinstance(parent, ast.stmt):
            _node, parent = parent, module.parents.get(id(parent))
        if isinstance(parent, ast.If):
            verdicts.append(_judge_if(module, parent, call, found.equality, scope))
    if not verdicts:
        return "the state comparison's result is not used to stop the flow"
    return next((v for v in verdicts if v is not None), None)


def _both_may_be_none(found: StateCheck) -> bool:
    if found.constant_time:
        return False
    returned = any(o.maybe_none for o in found.returned.origins if o.kind is Kind.REQUEST)
    stored = any(o.maybe_none for o in found.other.origins if o.kind is Kind.SESSION)
    return returned and stored


def _none_guarded(module: Analysis, found: StateCheck, callback: FuncNode) -> bool:
    sides = frozenset(o.source for o in found.returned.origins | found.other.origins)
    for body in bodies(module, callback):
        scope = module.scopes[id(body)]
        for node in module.own_nodes(body):
            if (
                isinstance(node, ast.If)
                and _tests_presence(module, node.test, sides, scope)
                and stops(node.body, module, scope)
            ):
                return True
    return False


def _tests_presence(
    module: Analysis, test: ast.expr, sides: frozenset[object], scope: Scope
) -> bool:
    for node in ast.walk(test):
        operand: ast.expr | None = None
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
            operand = node.operand
        elif isinstance(node, ast.Compare) and isinstance(node.ops[0], ast.Is):
            operand = node.left
        if operand is not None and {o.source for o in module.eval(operand, scope).origins} & sides:
            return True
    return False

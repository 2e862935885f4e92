"""OA119 state-reusable."""

from __future__ import annotations

import ast
from collections.abc import Iterator

from valetkey.audit import frameworks as fw
from valetkey.audit.analysis import Analysis
from valetkey.audit.index import FuncNode, Scope, kwarg
from valetkey.audit.oauth import callbacks, token_exchanges
from valetkey.audit.registry import AuditConfig, Hit, check
from valetkey.audit.values import Kind, const_str

from ._helpers import bodies
from .oa103_state_unverified import state_checks, stored_keys


@check("OA119")
def state_reusable(module: Analysis, config: AuditConfig) -> Iterator[Hit]:
    """Flags: the callback reads the stored state (from the session, or from a cookie the app
    set) to compare it or to hand it to requests-oauthlib's `OAuth2Session(state=...)`, and
    neither it nor the functions it calls remove it: no `pop`, `del`, `clear()`/`flush()`,
    and for a cookie no `delete_cookie`. Reported on the callback's `def`.
    """
    for func in callbacks(module):
        keys = _stored_state_keys(module, func)
        if keys and not _keys_or_all(_removed_keys(module, func), keys):
            yield Hit.at(func, "the stored state is not removed after use; it can be replayed")


def _stored_state_keys(module: Analysis, func: FuncNode) -> set[str]:
    keys: set[str] = set()
    for found in state_checks(module, func):
        keys |= stored_keys(module, found)
    scope = module.scopes[id(func)]
    for call in token_exchanges(module, func):
        receiver = call.func.value if isinstance(call.func, ast.Attribute) else None
        value = module.eval(receiver, scope).key("state") if receiver is not None else None
        if value is not None:
            keys |= {o.key for o in value.origins if o.kind is Kind.SESSION and o.key}
    return keys


def _removed_keys(module: Analysis, func: FuncNode) -> set[str]:
    removed: set[str] = set()
    for body in bodies(module, func):
        scope = module.scopes[id(body)]
        for node in module.own_nodes(body):
            removed |= _removal(module, node, scope)
    return removed


_ALL = {"*"}


def _removal(module: Analysis, node: ast.AST, scope: Scope) -> set[str]:
    if isinstance(node, ast.Delete):
        return {
            k
            for t in node.targets
            if isinstance(t, ast.Subscript)
            for k in [const_str(t.slice)]
            if k
        }
    if not isinstance(node, ast.Call) or not isinstance(node.func, ast.Attribute):
        return set()
    method = node.func.attr
    receiver = module.eval(node.func.value, scope)
    key = const_str(node.args[0]) if node.args else None
    if receiver.type == fw.SESSION and method == "pop" and key:
        return {key}
    if receiver.type == fw.SESSION and method in ("clear", "flush", "cycle_key"):
        return _ALL
    if method in ("delete_cookie", "clear_cookie") and key:
        return {key}
    if method == "set_cookie" and key and (kwarg(node, "max_age") or kwarg(node, "expires")):
        return {key}
    return set()


def _keys_or_all(removed: set[str], keys: set[str]) -> bool:
    return "*" in removed or keys <= removed

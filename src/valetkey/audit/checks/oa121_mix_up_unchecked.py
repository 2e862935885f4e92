"""OA121 mix-up-unchecked."""

from __future__ import annotations

import ast
from collections.abc import Iterator

from valetkey.audit import libraries as lib
from valetkey.audit.analysis import Analysis
from valetkey.audit.index import FuncNode
from valetkey.audit.oauth import callbacks, token_endpoint_path
from valetkey.audit.registry import AuditConfig, Hit, check
from valetkey.audit.values import Kind, Value

from ._helpers import bodies, session_read_key
from .oa103_state_unverified import state_checks

_PROVIDER_KEYS = frozenset(
    {
        "client_id",
        "authorize_url",
        "token_url",
        "access_token_url",
        "server_metadata_url",
        "authorization_endpoint",
        "token_endpoint",
        "authorization_base_url",
    }
)


@check("OA121")
def mix_up_unchecked(module: Analysis, config: AuditConfig) -> Iterator[Hit]:
    """Flags: the module configures two or more providers (Authlib `register` calls, or a
    table of provider dicts or records with client ids and endpoints) and a callback
    redeems codes without comparing the response's `iss` parameter, without comparing a
    per-provider value from the request (such as the provider in the redirect path) with
    the one kept in the session, and without keeping the state under a session key made
    from the provider in its own path (one redirect URI per provider, RFC 9700 §4.4.2.2).
    Reported on the callback's `def`. Authlib 1.9's clients do
    not check `iss` themselves.
    """
    if not module.uses("authlib") and not module.mentions(*_PROVIDER_KEYS):
        return
    if _provider_count(module) < 2:
        return
    for func in callbacks(module):
        if not _checks_issuer(module, func) and not _state_per_provider(module, func):
            yield Hit.at(func, "several providers share this callback and `iss` is never checked")


def _provider_count(module: Analysis) -> int:
    registered = 0
    tables = 0
    for node in module.nodes:
        if isinstance(node, ast.Call):
            callee = module.resolve(node, module.scope_of(node))
            if (callee.receiver_type, callee.method) == (lib.AUTHLIB_REGISTRY, "register"):
                registered += 1
        elif isinstance(node, ast.Dict):
            value = module.eval(node, module.scope_of(node))
            entries = [v for _, v in value.keys if _provider_entry(v)]
            tables = max(tables, len(entries))
    return max(registered, tables)


def _state_per_provider(module: Analysis, func: FuncNode) -> bool:
    """The callback takes the provider from its own path (one redirect URI per provider,
    RFC 9700 §4.4.2.2) and finds the stored state under a session key made from it: a
    response that arrives at another provider's callback finds no state."""
    for found in state_checks(module, func):
        scope = module.scopes[id(found.func)]
        stored = [found.other_node]
        if isinstance(found.other_node, ast.Name):  # `expected = session.pop(key)`
            stored += [b.expr for b in scope.bindings.get(found.other_node.id, [])]
        for node in (n for expr in stored for n in ast.walk(expr)):
            key = session_read_key(module, node, scope)
            if key is not None and module.eval(key, scope).has(Kind.REQUEST):
                return True
    return False


def _provider_entry(entry: Value) -> bool:
    """A provider's configuration: named settings (`client_id`, `token_url` ...) or, under
    any names, the URL of a token endpoint."""
    if entry.key_names() & _PROVIDER_KEYS:
        return True
    return any(
        "://" in (v.text or "") and token_endpoint_path(_path(v.text or "")) for _, v in entry.keys
    )


def _path(url: str) -> str:
    rest = url.split("://", 1)[1]
    return rest[rest.find("/") :] if "/" in rest else ""


def _checks_issuer(module: Analysis, func: FuncNode) -> bool:
    for body in bodies(module, func):
        scope = module.scopes[id(body)]
        for node in module.own_nodes(body):
            if not isinstance(node, ast.Compare):
                continue
            operands = [node.left, *node.comparators]
            values = [module.eval(n, scope) for n in operands]
            if any(o.kind is Kind.REQUEST and o.key == "iss" for v in values for o in v.origins):
                return True
            if len(values) != 2 or any(isinstance(n, ast.Constant) for n in operands):
                continue  # `idp is None` compares nothing with nothing
            for mine, other in (values, values[::-1]):
                from_request = mine.has(Kind.REQUEST) and not mine.has(Kind.SESSION)
                not_state = all(o.key != "state" for o in mine.origins)
                if from_request and other.has(Kind.SESSION) and not_state:
                    return True
    return False

"""OA115 open-redirect-after-login."""

from __future__ import annotations

import ast
from collections.abc import Iterator

from valetkey.audit import frameworks as fw
from valetkey.audit.analysis import Analysis
from valetkey.audit.index import Scope, argument
from valetkey.audit.models.web import tornado_handler
from valetkey.audit.registry import AuditConfig, Hit, check
from valetkey.audit.values import Kind, Origin, Value

_REDIRECT_NAMES = frozenset(q.rsplit(".", 1)[1] for q in fw.REDIRECTS) | {"redirect"}
_USER_KINDS = (Kind.REQUEST, Kind.COOKIE, Kind.HEADER)


@check("OA115")
def open_redirect(module: Analysis, config: AuditConfig) -> Iterator[Hit]:
    """Flags: Flask/Werkzeug `redirect`, Django `redirect`/`HttpResponseRedirect`, or
    Starlette/FastAPI `RedirectResponse` whose target comes from request data (query,
    form, cookie, header), directly or through the session (stored by the login route,
    used by the callback), unless the module validates it: Django's
    `url_has_allowed_host_and_scheme`, a test on the parsed URL's `netloc`/`hostname`, a
    membership test against an allow-list, an equality test with a constant, a
    `startswith` test that also refuses `//`, a pattern match (`SAFE.fullmatch(url)`), or a
    predicate function of another module
    (a predicate of this module counts only if it does one of these: `url.startswith("/")`
    alone lets `//evil.example` through). A target that starts with a fixed path of the
    site (`f"/photos/{x}"`) is fine; a fallback (`session.pop("next") or url_for("home")`)
    does not make the user's alternative safe.

    Silent: a target that reaches the redirect only through a call the analysis cannot see
    into (a function of another module may be the sanitiser).
    """
    if not module.uses(*fw.WEB_FRAMEWORKS):
        return
    validated: frozenset[Origin] | None = None
    for node in module.nodes:
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
        if name not in _REDIRECT_NAMES:
            continue
        scope = module.scope_of(node)
        if not is_redirect(module, node, scope):
            continue
        target_node = next(
            (a for name in ("url", "to", "location", "path") if (a := argument(node, 0, name))),
            None,
        )
        if target_node is None:
            continue
        if validated is None:
            validated = _validated_origins(module)
        for target in _alternatives(module, target_node, scope):
            # data that reached the target only through a call we cannot see into (a
            # sanitiser of another module, `resolve_redirect_uri(request, raw)`) is not judged
            user = [o for o in target.origins if o.kind in _USER_KINDS and not o.derived]
            if user and not _fixed_prefix(target) and not set(user) <= validated:
                yield Hit.at(node, "redirect to a URL taken from the request, unchecked")
                break


def is_redirect(module: Analysis, call: ast.Call, scope: Scope) -> bool:
    """A framework's redirect: a redirect function or response, or a Tornado handler's
    `self.redirect(url)`."""
    callee = module.resolve(call, scope)
    if callee.qualname in fw.REDIRECTS:
        return True
    return callee.method == "redirect" and tornado_handler(module, callee.receiver or Value())


def _alternatives(module: Analysis, node: ast.expr, scope: Scope, depth: int = 0) -> list[Value]:
    """The values a target may have, one per alternative of `a or b` and `a if t else b`
    (also through a name assigned once in the function): a fallback to a fixed path does
    not make the user's URL safe."""
    if depth < 3 and isinstance(node, ast.BoolOp) and isinstance(node.op, ast.Or):
        return [v for part in node.values for v in _alternatives(module, part, scope, depth + 1)]
    if depth < 3 and isinstance(node, ast.IfExp):
        return [
            *_alternatives(module, node.body, scope, depth + 1),
            *_alternatives(module, node.orelse, scope, depth + 1),
        ]
    if depth < 3 and isinstance(node, ast.Name):
        bindings = scope.bindings.get(node.id, [])
        is_param = any(p.arg == node.id for p in scope.params)
        if len(bindings) == 1 and bindings[0].whole and bindings[0].key is None and not is_param:
            return _alternatives(module, bindings[0].expr, scope, depth + 1)
    return [module.eval(node, scope)]


def _fixed_prefix(target: Value) -> bool:
    if target.has(Kind.INTERNAL_URL) or not target.fragments:
        return target.has(Kind.INTERNAL_URL)
    first = target.fragments[0]
    if len(first) >= 2 and first[0] == "/" and first[1] not in "/\\":
        return True
    if "://" in first:
        rest = first.split("://", 1)[1]
        return "/" in rest
    return False


def _validated_origins(module: Analysis) -> frozenset[Origin]:
    """Request-data origins that the module checks somewhere in a test."""
    found: set[Origin] = set()
    for node in module.nodes:
        scope = module.scope_of(node)
        if isinstance(node, ast.Call):
            qual = module.resolve(node, scope).qualname
            if qual in fw.URL_SAFE_CHECKERS:
                arguments = [*node.args, *(k.value for k in node.keywords)]
                found |= _user_origins(module, arguments, scope)
        elif isinstance(node, ast.Compare) and _is_url_check(module, node, scope):
            found |= _user_origins(module, [node.left, *node.comparators], scope)
        elif isinstance(node, ast.IfExp | ast.If | ast.While):
            if _test_on_parsed_url(node.test):
                found |= _user_origins(module, [node.test], scope)
            found |= _user_origins(module, _predicate_arguments(module, node.test), scope)
    return frozenset(found)


def _predicate_arguments(module: Analysis, test: ast.expr) -> list[ast.expr]:
    """Arguments of function calls made in a test, such as `is_safe(url)` or
    `check_for_language(code)`: the value is checked by a function the module trusts (a
    function of another module is trusted; one of this module only if it tests the parsed
    host or refuses `//`). A method of the value itself, like `url.startswith("/")`, is not
    such a check."""
    found: list[ast.expr] = []
    scope = module.scope_of(test)
    for node in ast.walk(test):
        if not isinstance(node, ast.Call) or _weak_local_predicate(module, node, test):
            continue
        if isinstance(node.func, ast.Attribute) and _user_origins(module, [node.func.value], scope):
            continue  # `url.startswith("/")`: a method of the value itself
        found.extend(node.args)
        found.extend(k.value for k in node.keywords)
    return found


def _weak_local_predicate(module: Analysis, call: ast.Call, test: ast.expr) -> bool:
    if not isinstance(call.func, ast.Name):
        return False
    func = module.lookup_def(call.func.id, module.scope_of(test))
    if func is None:
        return False
    body = ast.Module(body=list(func.body), type_ignores=[])
    checks_host = _test_on_parsed_url(body) or any(
        isinstance(n, ast.Call) and module.qualname_of(n.func) in fw.URL_SAFE_CHECKERS
        for n in ast.walk(body)
    )
    allow_list = any(
        isinstance(n, ast.Compare) and any(isinstance(op, ast.In | ast.NotIn) for op in n.ops)
        for n in ast.walk(body)
    )
    return not (checks_host or allow_list)


def _user_origins(module: Analysis, nodes: list[ast.expr], scope: Scope) -> set[Origin]:
    origins: set[Origin] = set()
    for node in nodes:
        origins |= {o.source for o in module.eval(node, scope).origins if o.kind in _USER_KINDS}
    return origins


def _is_url_check(module: Analysis, node: ast.Compare, scope: Scope) -> bool:
    if any(isinstance(op, ast.In | ast.NotIn) for op in node.ops):
        container = module.eval(node.comparators[-1], scope)
        return not any(o.kind in _USER_KINDS for o in container.origins)
    if any(isinstance(op, ast.Eq | ast.NotEq) for op in node.ops):
        sides = [node.left, *node.comparators]
        return any(isinstance(s, ast.Constant) for s in sides) or _test_on_parsed_url(node)
    return False


def _test_on_parsed_url(node: ast.AST) -> bool:
    for sub in ast.walk(node):
        if isinstance(sub, ast.Attribute) and sub.attr in ("netloc", "hostname", "scheme"):
            return True
        if isinstance(sub, ast.Constant) and sub.value == "//":
            return True
    return False

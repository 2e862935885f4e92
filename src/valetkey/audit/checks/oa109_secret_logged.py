"""OA109 secret-logged."""

from __future__ import annotations

import ast
from collections.abc import Iterator

from valetkey.audit import frameworks as fw
from valetkey.audit import libraries as lib
from valetkey.audit.analysis import Analysis
from valetkey.audit.index import Scope
from valetkey.audit.models.web import tornado_handler
from valetkey.audit.registry import AuditConfig, Hit, check
from valetkey.audit.values import Origin, Value

from ._helpers import client_secret_origins, is_secret

_EXCEPTION = "an exception message"
_SINK_NAMES = frozenset(
    {"print", "render_template", "render"} | {q.rsplit(".", 1)[1] for q in fw.RESPONSE_BODIES}
)
_TEMPLATES = frozenset({"flask.render_template", "django.shortcuts.render"})
_HANDLER_WRITES = frozenset({"write", "finish", "render", "render_string"})  # Tornado
_BODY_ATTRIBUTES = frozenset({"media", "text", "body", "data"})  # Falcon's resp


@check("OA109")
def secret_logged(module: Analysis, config: AuditConfig) -> Iterator[Hit]:
    """Flags: a value that is a token response (from `fetch_token`, `authorize_access_token`
    or a POST to the token endpoint), its `access_token`/`refresh_token`/`id_token`, the
    `code` request parameter, or the value used as `client_secret`, reaches `print`, a
    `logging` call (module functions, `logging.getLogger` loggers, Flask's `app.logger`), an
    exception raised with it in the message, or a response body: the return value of a
    route, `jsonify`, Django/Starlette response classes, a template rendered with it.
    """
    if not module.uses(*lib.WEB_AND_OAUTH_PACKAGES) and not module.mentions(
        *lib.TOKEN_KEYS, "code", "client_secret"
    ):
        return
    secrets = client_secret_origins(module)
    for node in module.nodes:
        if isinstance(node, ast.Call):
            scope = module.scope_of(node)
            what = _sink(module, node, scope)
            if what is None or _on_error_path(module, node):
                continue
            if what == _EXCEPTION and not _builds_message(node):
                continue
            if _carries_secret(module, node, scope, secrets):
                yield Hit.at(node, f"a token, code or client secret is sent to {what}")
        elif isinstance(node, ast.Assign) and _body_assignment(module, node):
            value = module.eval(node.value, module.scope_of(node))
            if _plain_secret(value, secrets):
                yield Hit.at(node, "a token, code or client secret is sent to the browser")
        elif isinstance(node, ast.Return) and node.value is not None:
            func = module.enclosing_function(node)
            if func is not None and module.is_route(func):
                value = module.eval(node.value, module.scopes[id(func)])
                if _plain_secret(value, secrets):
                    yield Hit.at(node, "a token, code or client secret is returned to the browser")


def _body_assignment(module: Analysis, node: ast.Assign) -> bool:
    """`resp.media = {...}` on a Falcon response."""
    return any(
        isinstance(target, ast.Attribute)
        and target.attr in _BODY_ATTRIBUTES
        and module.eval(target.value, module.scope_of(node)).type == fw.FALCON_RESPONSE
        for target in node.targets
    )


def _maybe_sink(module: Analysis, call: ast.Call) -> bool:
    """A cheap syntactic filter before resolving the callee."""
    func = call.func
    if isinstance(module.parents.get(id(call)), ast.Raise):
        return True
    name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
    return name in _SINK_NAMES or name in lib.LOG_METHODS or name in _HANDLER_WRITES


def _sink(module: Analysis, call: ast.Call, scope: Scope) -> str | None:
    if not _maybe_sink(module, call):
        return None
    callee = module.resolve(call, scope)
    qual = callee.qualname or ""
    if qual == "print":
        return "print()"
    if qual.startswith("logging.") and callee.method in lib.LOG_METHODS:
        return "the log"
    if callee.method in lib.LOG_METHODS and _is_logger(module, call, scope):
        return "the log"
    if qual in fw.RESPONSE_BODIES or qual in _TEMPLATES:
        return "the browser"
    if callee.method in _HANDLER_WRITES and tornado_handler(module, callee.receiver or Value()):
        return "the browser"
    if _raised(module, call) and (qual.endswith(("Error", "Exception")) or callee.local_class):
        return _EXCEPTION
    return None


def _builds_message(call: ast.Call) -> bool:
    """An exception whose message is built from the value (not one that carries it)."""
    for arg in call.args:
        if isinstance(arg, ast.JoinedStr) or (
            isinstance(arg, ast.BinOp) and isinstance(arg.op, ast.Add | ast.Mod)
        ):
            return True
        if (
            isinstance(arg, ast.Call)
            and isinstance(arg.func, ast.Attribute)
            and arg.func.attr == "format"
        ):
            return True
    return False


def _on_error_path(module: Analysis, node: ast.AST) -> bool:
    """Inside `if resp.status_code != 200:`, `if not resp.ok:`,
    `if "access_token" not in data:` or `if "error" in result:`: a failed response carries
    no token."""
    child: ast.AST = node
    parent = module.parents.get(id(node))
    while parent is not None and not isinstance(parent, ast.FunctionDef | ast.AsyncFunctionDef):
        if isinstance(parent, ast.If) and child in parent.body and _error_test(parent.test):
            return True
        child, parent = parent, module.parents.get(id(parent))
    return False


def _error_test(test: ast.expr) -> bool:
    if isinstance(test, ast.BoolOp) and isinstance(test.op, ast.Or):
        return any(_error_test(v) for v in test.values)
    if isinstance(test, ast.UnaryOp) and isinstance(test.op, ast.Not):
        return isinstance(test.operand, ast.Attribute) and test.operand.attr in ("ok", "is_success")
    if _error_entry(test):
        return True  # `if result.get("error"):` (MSAL, token endpoints): no token in it
    if not isinstance(test, ast.Compare) or len(test.ops) != 1:
        return False
    op, left = test.ops[0], test.left
    if isinstance(op, ast.In) and isinstance(left, ast.Constant) and left.value == "error":
        return True  # `if "error" in result:`
    if isinstance(left, ast.Attribute) and left.attr == "status_code":
        return isinstance(op, ast.NotEq | ast.Gt | ast.GtE | ast.NotIn)
    return (
        isinstance(op, ast.NotIn)
        and isinstance(left, ast.Constant)
        and left.value in lib.TOKEN_KEYS
    )


def _error_entry(test: ast.expr) -> bool:
    return (
        isinstance(test, ast.Call)
        and isinstance(test.func, ast.Attribute)
        and test.func.attr == "get"
        and bool(test.args)
        and isinstance(test.args[0], ast.Constant)
        and test.args[0].value == "error"
    )


def _is_logger(module: Analysis, call: ast.Call, scope: Scope) -> bool:
    receiver = call.func.value if isinstance(call.func, ast.Attribute) else None
    if receiver is None:
        return False
    if module.eval(receiver, scope).type == lib.LOGGER:
        return True
    if isinstance(receiver, ast.Attribute) and receiver.attr == "logger":
        base = module.eval(receiver.value, scope)
        return base.type == fw.FLASK_APP or base.ref in ("flask.current_app",)
    return False


def _raised(module: Analysis, call: ast.Call) -> bool:
    return isinstance(module.parents.get(id(call)), ast.Raise)


def _carries_secret(
    module: Analysis, call: ast.Call, scope: Scope, secrets: frozenset[Origin]
) -> bool:
    values = [module.eval(a, scope) for a in call.args]
    values.extend(module.eval(k.value, scope) for k in call.keywords)
    return any(_plain_secret(v, secrets) for v in values)


def _plain_secret(value: Value, secrets: frozenset[Origin]) -> bool:
    return is_secret(value, secrets)

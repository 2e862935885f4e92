"""OA116 session-key-in-code."""

from __future__ import annotations

import ast
from collections.abc import Iterator

from valetkey.audit import frameworks as fw
from valetkey.audit.analysis import Analysis
from valetkey.audit.index import Scope
from valetkey.audit.model import Severity
from valetkey.audit.registry import AuditConfig, Hit, check
from valetkey.audit.values import Value, const_str

from ._helpers import hardcoded

_SESSION_MIDDLEWARE = frozenset(
    {
        "starlette.middleware.sessions.SessionMiddleware",
        "fastapi.middleware.sessions.SessionMiddleware",
    }
)


@check(
    id="OA116",
    slug="session-key-in-code",
    severity=Severity.HIGH,
    clause="lesson checklist; CWE-798",
    fix="Load the session signing key from the environment (e.g. `os.environ['SECRET_KEY']`), "
    "generated with `secrets.token_hex(32)`.",
    references=("https://cwe.mitre.org/data/definitions/798.html",),
)
def session_key_in_code(module: Analysis, config: AuditConfig) -> Iterator[Hit]:
    """The key that signs the session (where state, nonce and verifier live) is a literal.

    What: a non-empty literal (or literal default of an environment lookup) assigned to
    Flask's `app.secret_key`, `app.config["SECRET_KEY"]`, `config.update(SECRET_KEY=...)`,
    a module-level Django setting `SECRET_KEY`, or given as `secret_key` to Starlette's
    `SessionMiddleware` (directly, through `add_middleware` or `Middleware`). These are the
    frameworks' own setting names.

    Why: whoever knows the key can forge session cookies, and with them the stored state,
    nonce and PKCE verifier, which defeats every CSRF defence of the flow (CWE-798).

    Bad:
        from fastapi import FastAPI
        from starlette.middleware.sessions import SessionMiddleware

        app = FastAPI()
        app.add_middleware(SessionMiddleware, secret_key="change-me-please")

    Good:
        import os

        from fastapi import FastAPI
        from starlette.middleware.sessions import SessionMiddleware

        app = FastAPI()
        app.add_middleware(SessionMiddleware, secret_key=os.environ["SESSION_SECRET"])
    """
    for value, node in _session_keys(module):
        origin = hardcoded(value)
        if origin is not None:
            yield Hit(
                origin.line or int(getattr(node, "lineno", 1)),
                origin.col,
                "the session signing key is a literal in the code",
            )


def _session_keys(module: Analysis) -> Iterator[tuple[Value, ast.AST]]:
    if not module.mentions("SECRET_KEY", "secret_key") and not (
        {"secret_key", "SECRET_KEY"} & module.identifiers
    ):
        return
    for node in module.nodes:
        scope = module.scope_of(node)
        if isinstance(node, ast.Assign):
            yield from _assigned(module, node, scope)
        elif isinstance(node, ast.Call):
            yield from _called(module, node, scope)


def _assigned(module: Analysis, node: ast.Assign, scope: Scope) -> Iterator[tuple[Value, ast.AST]]:
    for target in node.targets:
        if isinstance(target, ast.Attribute) and target.attr == "secret_key":
            base = module.eval(target.value, scope)
            if base.type == fw.FLASK_APP or (base.type is None and module.uses("flask")):
                yield module.eval(node.value, scope), node
        elif (
            isinstance(target, ast.Subscript)
            and const_str(target.slice) == "SECRET_KEY"
            and isinstance(target.value, ast.Attribute)
            and target.value.attr == "config"
        ) or (
            isinstance(target, ast.Name)
            and target.id == "SECRET_KEY"
            and scope is module.module_scope
        ):
            yield module.eval(node.value, scope), node


def _called(module: Analysis, call: ast.Call, scope: Scope) -> Iterator[tuple[Value, ast.AST]]:
    callee = module.resolve(call, scope)
    qualname = callee.qualname or ""
    first = call.args[0] if call.args else None
    first_qual = module.qualname_of(first) if first is not None else None
    middleware = qualname in _SESSION_MIDDLEWARE or first_qual in _SESSION_MIDDLEWARE
    config_call = (
        callee.method in ("update", "from_mapping")
        and isinstance(call.func, ast.Attribute)
        and isinstance(call.func.value, ast.Attribute)
        and call.func.value.attr == "config"
    )
    for kw in call.keywords:
        if (middleware and kw.arg == "secret_key") or (config_call and kw.arg == "SECRET_KEY"):
            yield module.eval(kw.value, scope), kw.value

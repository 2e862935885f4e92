"""OA116 session-key-in-code."""

from __future__ import annotations

import ast
from collections.abc import Iterator

from valetkey.audit import frameworks as fw
from valetkey.audit.analysis import Analysis
from valetkey.audit.index import Scope
from valetkey.audit.registry import AuditConfig, Hit, check
from valetkey.audit.values import Value, const_str

from ._helpers import hardcoded

_SESSION_MIDDLEWARE = frozenset(
    {
        "starlette.middleware.sessions.SessionMiddleware",
        "fastapi.middleware.sessions.SessionMiddleware",
    }
)
# Other frameworks' session (or signed-cookie) signing keys: the call, and the keyword or
# position of the key.
_KEYED_CALLS: dict[str, tuple[str, int | None]] = {
    "aiohttp_session.cookie_storage.EncryptedCookieStorage": ("secret_key", 0),
    "aiohttp_session.EncryptedCookieStorage": ("secret_key", 0),
    "aiohttp_session.nacl_storage.NaClCookieStorage": ("secret_key", 0),
    "tornado.web.Application": ("cookie_secret", None),
    "litestar.middleware.session.client_side.CookieBackendConfig": ("secret", None),
    "pyramid.session.SignedCookieSessionFactory": ("secret", 0),
    "pyramid.authentication.AuthTktAuthenticationPolicy": ("secret", 0),
    "pyramid.authentication.AuthTktCookieHelper": ("secret", 0),
    "beaker.middleware.SessionMiddleware": ("session.secret", None),
}
# Keys of settings mappings that name a session signing key.
_SETTING_KEYS = frozenset({"SECRET_KEY", "cookie_secret", "session.secret", "session.validate_key"})


@check("OA116")
def session_key_in_code(module: Analysis, config: AuditConfig) -> Iterator[Hit]:
    """Flags: a non-empty literal (or literal default of an environment lookup) assigned to
    Flask's or Quart's `app.secret_key`, `app.config["SECRET_KEY"]`,
    `config.update(SECRET_KEY=...)`, a `SECRET_KEY` of a config class, a module-level
    Django setting `SECRET_KEY`; given as `secret_key` to Starlette's `SessionMiddleware`
    (directly, through `add_middleware` or `Middleware`), to an aiohttp-session cookie
    storage, as Tornado's `cookie_secret`, Litestar's `CookieBackendConfig(secret=...)`,
    Pyramid's `SignedCookieSessionFactory`/`AuthTktAuthenticationPolicy`, a Beaker
    `session.secret`, or Bottle's signed-cookie `secret=`. These are the frameworks' own
    setting names.
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
    words = {"SECRET_KEY", "secret_key", "cookie_secret", "secret", "session.secret"}
    if not module.mentions(*words) and not (words & module.identifiers):
        return
    for node in module.nodes:
        scope = module.scope_of(node)
        if isinstance(node, ast.Assign):
            yield from _assigned(module, node, scope)
        elif isinstance(node, ast.Call):
            yield from _called(module, node, scope)
            yield from _keyed_call(module, node, scope)
        elif isinstance(node, ast.Dict):
            yield from _settings_dict(module, node, scope)
        elif isinstance(node, ast.ClassDef):
            yield from _config_class(module, node)


def _keyed_call(module: Analysis, call: ast.Call, scope: Scope) -> Iterator[tuple[Value, ast.AST]]:
    """aiohttp-session storages, Tornado's `cookie_secret`, Litestar's cookie sessions,
    Pyramid's signed-cookie session factory, Bottle's signed cookies."""
    qualname = module.resolve(call, scope).qualname or ""
    slot = _KEYED_CALLS.get(qualname)
    bottle_cookie = (
        isinstance(call.func, ast.Attribute)
        and call.func.attr in ("get_cookie", "set_cookie")
        and module.uses("bottle")
    )
    if slot is None and bottle_cookie:
        slot = ("secret", None)  # bottle's signed cookies
    if slot is None:
        return
    name, position = slot
    node = next((kw.value for kw in call.keywords if kw.arg == name), None)
    if node is None and position is not None and len(call.args) > position:
        node = call.args[position]
    if node is not None:
        yield module.eval(node, scope), node


def _settings_dict(
    module: Analysis, node: ast.Dict, scope: Scope
) -> Iterator[tuple[Value, ast.AST]]:
    """`{"cookie_secret": ...}` settings for Tornado, `{"session.secret": ...}` for
    Pyramid/Beaker."""
    for key, value in zip(node.keys, node.values, strict=True):
        if key is not None and const_str(key) in _SETTING_KEYS - {"SECRET_KEY"}:
            yield module.eval(value, scope), value


def _config_class(module: Analysis, node: ast.ClassDef) -> Iterator[tuple[Value, ast.AST]]:
    """`class Config: SECRET_KEY = "..."` (Flask's `from_object`, Django-style settings
    classes)."""
    if not module.uses("flask", "quart", "django", "sanic"):
        return
    for stmt in node.body:
        if (
            isinstance(stmt, ast.Assign)
            and len(stmt.targets) == 1
            and isinstance(stmt.targets[0], ast.Name)
            and stmt.targets[0].id == "SECRET_KEY"
        ):
            yield module.eval(stmt.value, module.module_scope), stmt


def _assigned(module: Analysis, node: ast.Assign, scope: Scope) -> Iterator[tuple[Value, ast.AST]]:
    for target in node.targets:
        if isinstance(target, ast.Attribute) and target.attr == "secret_key":
            base = module.eval(target.value, scope)
            if base.type == fw.FLASK_APP or (base.type is None and module.uses("flask", "quart")):
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

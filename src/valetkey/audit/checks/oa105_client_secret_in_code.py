"""OA105 client-secret-in-code."""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator

from valetkey.audit.analysis import Analysis
from valetkey.audit.index import kwarg
from valetkey.audit.oauth import http_calls, is_token_request, placements
from valetkey.audit.registry import AuditConfig, Hit, check
from valetkey.audit.values import Kind, Origin, Value

from ._helpers import hardcoded

_BASIC_AUTH = frozenset({"requests.auth.HTTPBasicAuth", "httpx.BasicAuth"})


@check("OA105")
def client_secret_in_code(module: Analysis, config: AuditConfig) -> Iterator[Hit]:
    """Flags: a non-empty literal (directly, through a constant, a class attribute, a config
    dict, or as the default of `os.environ.get`/`os.getenv`) reaches a place that holds a
    client secret. Which places hold a client secret is decided by protocol and library
    names, not by variable names: the `client_secret` keyword argument or dict key (any
    library: requests-oauthlib, Authlib, Flask-Dance ...), the `client_secret` query
    parameter, Authlib's Flask config key `<NAME>_CLIENT_SECRET`, a `secret` key beside a
    `client_id` key (django-allauth's app dicts), and the password half of HTTP Basic
    authentication (`auth=(id, secret)`, `HTTPBasicAuth`) on a token request. An
    upper-case identifier such as `"GITHUB_OAUTH_CLIENT_SECRET"` names a setting to read
    and is not reported.
    """
    for value, node in _secret_slots(module):
        origin = hardcoded(value)
        if origin is not None and not _names_a_setting(value, origin):
            yield Hit(origin.line or int(getattr(node, "lineno", 1)), origin.col, _message(origin))


# Settings that client libraries read by name: python-social-auth's
# SOCIAL_AUTH_<BACKEND>_SECRET, Authlib's and Flask-Dance's <NAME>_CLIENT_SECRET.
_SECRET_SETTINGS = re.compile(r"(SOCIAL_AUTH_[A-Z0-9_]+_SECRET|[A-Z0-9_]+_CLIENT_SECRET)")
# Library constructors that take the client secret as their second argument.
_SECRET_SECOND = (
    "authlib.integrations.requests_client.OAuth2Session",
    "authlib.integrations.httpx_client.OAuth2Client",
    "authlib.integrations.httpx_client.AsyncOAuth2Client",
    "httpx_oauth.clients.",
    "httpx_oauth.oauth2.OAuth2",
    "oauthlib.oauth2.BackendApplicationClient",
)


def _setting_slots(module: Analysis) -> Iterator[tuple[Value, ast.AST]]:
    """Module-level settings a library reads by name (a Django or Flask settings module)."""
    for stmt in module.tree.body:
        if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1:
            target = stmt.targets[0]
            if isinstance(target, ast.Name) and _SECRET_SETTINGS.fullmatch(target.id):
                yield module.eval(stmt.value, module.module_scope), stmt


def _positional_slots(module: Analysis) -> Iterator[tuple[Value, ast.AST]]:
    """The secret given by position to a library client, or as the field of an instance of
    a record class of the module (`Provider("id", "secret")` of a dataclass)."""
    for node in module.nodes:
        if not isinstance(node, ast.Call):
            continue
        scope = module.scope_of(node)
        callee = module.resolve(node, scope)
        qual = callee.qualname or ""
        sso = qual.startswith("fastapi_sso.") and qual.endswith("SSO")  # GoogleSSO(id, secret)
        if len(node.args) > 1 and (qual.startswith(_SECRET_SECOND) or sso):
            yield module.eval(node.args[1], scope), node
        elif callee.local_class is not None:
            value = module.eval(node, scope)
            secret = value.key("client_secret")
            if secret is None and "client_id" in value.key_names():
                secret = value.key("secret")
            if secret is not None:
                yield secret, node


def _names_a_setting(value: Value, origin: Origin) -> bool:
    """`"GITHUB_OAUTH_CLIENT_SECRET"` is the name of a setting to read, not a secret."""
    return origin.kind is not Kind.ENV_DEFAULT and bool(
        re.fullmatch(r"[A-Z][A-Z0-9_]*", value.text or "")
    )


def _message(origin: Origin) -> str:
    if origin.kind.name == "ENV_DEFAULT":
        return "the client secret has a literal default in the code"
    return "the client secret is a literal in the code"


def _secret_slots(module: Analysis) -> Iterator[tuple[Value, ast.AST]]:
    for p in placements(module):
        if (
            p.key in ("client_secret", "client_credential")
            or p.key.endswith("_CLIENT_SECRET")
            or (p.key == "secret" and "client_id" in p.container_keys)
        ):
            yield p.value, p.node
    yield from _setting_slots(module)
    yield from _positional_slots(module)
    for http in http_calls(module):
        if not is_token_request(module, http.call, http.scope, http.method):
            continue
        auth = kwarg(http.call, "auth")
        if auth is None:
            continue
        if isinstance(auth, ast.Tuple) and len(auth.elts) == 2:
            yield module.eval(auth.elts[1], http.scope), auth
        elif (
            isinstance(auth, ast.Call)
            and len(auth.args) == 2
            and module.resolve(auth, http.scope).qualname in _BASIC_AUTH
        ):
            yield module.eval(auth.args[1], http.scope), auth

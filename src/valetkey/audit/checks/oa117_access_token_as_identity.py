"""OA117 access-token-as-identity."""

from __future__ import annotations

import ast
from collections.abc import Iterator

from valetkey.audit import frameworks as fw
from valetkey.audit import libraries as lib
from valetkey.audit.analysis import Analysis
from valetkey.audit.index import FuncNode, Scope, kwarg
from valetkey.audit.model import Severity
from valetkey.audit.oauth import http_calls, is_back_channel
from valetkey.audit.registry import AuditConfig, Hit, check
from valetkey.audit.values import Kind, Value

_OUTSIDE = (Kind.REQUEST, Kind.HEADER, Kind.COOKIE)


@check(
    id="OA117",
    slug="access-token-as-identity",
    severity=Severity.HIGH,
    clause="RFC 6819 §4.4.1.13; OIDC Core §3.1.3.7",
    fix="Log users in from an ID token verified for this client (aud = your client_id), or "
    "from a code your app redeemed itself; never from a token a browser or app posts.",
    references=(
        "https://www.rfc-editor.org/rfc/rfc6819#section-4.4.1.13",
        "https://openid.net/specs/openid-connect-core-1_0.html#IDTokenValidation",
    ),
)
def access_token_as_identity(module: Analysis, config: AuditConfig) -> Iterator[Hit]:
    """A user is logged in from an access token that came from the browser or an app.

    What: in a function that establishes a login (writes the session, or calls
    Flask-Login's `login_user` or Django's `login`), a userinfo/API call (requests, httpx,
    an OAuth session, Authlib's `userinfo(token=...)`) is made with an access token taken
    from the incoming request (body, query, header or cookie). The token could have been
    issued to any client, so it proves nothing about who is using this one.

    Why: RFC 6819 §4.4.1.13 (token substitution) and OIDC Core §3.1.3.7: only an ID token
    whose `aud` is this client, or a code this client redeemed, identifies the user to it.

    Bad:
        import requests
        from flask import Flask, request, session

        app = Flask(__name__)

        @app.post("/api/login")
        def api_login():
            token = request.json["access_token"]
            me = requests.get("https://api.example/userinfo", timeout=10,
                              headers={"Authorization": f"Bearer {token}"}).json()
            session["user"] = me["sub"]
            return {"ok": True}

    Good:
        import requests
        from flask import Flask, request

        app = Flask(__name__)

        @app.get("/api/photos")
        def api_photos():
            token = request.headers["Authorization"].removeprefix("Bearer ")
            reply = requests.get("https://api.example/photos", timeout=10,
                                 headers={"Authorization": f"Bearer {token}"})
            return reply.json()
    """
    for http in http_calls(module):
        func = module.enclosing_function(http.call)
        if func is None or not is_back_channel(module, http):
            continue
        if _token_from_outside(module, http.call, http.scope) and _logs_in(module, func):
            yield Hit.at(http.call, "a user is identified by an access token from the request")
    for node in module.nodes if module.uses("authlib") else ():
        if isinstance(node, ast.Call):
            scope = module.scope_of(node)
            callee = module.resolve(node, scope)
            func = module.enclosing_function(node)
            if (callee.receiver_type, callee.method) == (lib.AUTHLIB_APP, "userinfo") and (
                func is not None
                and _token_from_outside(module, node, scope)
                and _logs_in(module, func)
            ):
                yield Hit.at(node, "a user is identified by an access token from the request")


def _token_from_outside(module: Analysis, call: ast.Call, scope: Scope) -> bool:
    values: list[Value] = []
    headers = kwarg(call, "headers")
    if headers is not None:
        header_value = module.eval(headers, scope)
        auth = header_value.key("Authorization") or header_value.key("authorization")
        if auth is not None:
            values.append(auth)
    for name in ("token", "params", "auth"):
        node = kwarg(call, name)
        if node is not None:
            values.append(module.eval(node, scope))
    return any(v.has(*_OUTSIDE) for v in values)


def _logs_in(module: Analysis, func: FuncNode) -> bool:
    scope = module.scopes[id(func)]
    for node in module.own_nodes(func):
        if isinstance(node, ast.Assign) and any(
            isinstance(t, ast.Subscript) and module.eval(t.value, scope).type == fw.SESSION
            for t in node.targets
        ):
            return True
        if isinstance(node, ast.Call) and module.resolve(node, scope).qualname in fw.LOGIN_CALLS:
            return True
    return False

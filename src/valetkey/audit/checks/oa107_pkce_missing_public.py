"""OA107 pkce-missing-public."""

from __future__ import annotations

import ast
from collections.abc import Iterator

from valetkey.audit import libraries as lib
from valetkey.audit.analysis import Analysis
from valetkey.audit.index import Scope, kwarg
from valetkey.audit.oauth import HttpCall, http_calls, is_token_request, placements
from valetkey.audit.registry import AuditConfig, Hit, check
from valetkey.audit.values import Value

_CREDENTIAL_KEYS = frozenset({"client_secret", "client_assertion"})


@check("OA107")
def pkce_missing_public(module: Analysis, config: AuditConfig) -> Iterator[Hit]:
    """Flags: a code exchange that sends no client credentials (no `client_secret`, no
    `client_assertion`, no `auth=`) and no `code_verifier`: a hand-written POST with
    `grant_type=authorization_code`, requests-oauthlib `fetch_token` on a session without
    `pkce=`, Authlib `OAuth2Session`/`register` without `code_challenge_method` and
    without a client secret. Also any `code_challenge_method` or `pkce` set to `plain`.
    """
    for p in placements(module):
        if p.key in ("code_challenge_method", "pkce") and (p.value.text or "").lower() == "plain":
            yield Hit.at(p.node, "PKCE with the `plain` method exposes the verifier")
    for http in http_calls(module):
        if _public_without_pkce(module, http):
            yield Hit.at(http.call, "a public client redeems the code without PKCE")
    yield from _authlib_registrations(module)


def _public_without_pkce(module: Analysis, http: HttpCall) -> bool:
    call, scope = http.call, http.scope
    if http.method == "fetch_token":
        if http.client_type not in (lib.OAUTH2SESSION, lib.AUTHLIB_SESSION):
            return False
        if kwarg(call, "code") is None and kwarg(call, "authorization_response") is None:
            return False
        return not _sends_credentials(module, call, scope) and not _session_pkce(http.receiver)
    if not is_token_request(module, call, scope, http.method):
        return False
    payload, opened = _payload_keys(module, call, scope)
    if "authorization_code" not in _grant(module, call, scope) or opened:
        return False
    if _authorization_header(module, call, scope):
        return False  # client authentication in the header (HTTP Basic, RFC 6749 §2.3.1)
    return not (payload & (_CREDENTIAL_KEYS | {"code_verifier"})) and kwarg(call, "auth") is None


def _authorization_header(module: Analysis, call: ast.Call, scope: Scope) -> bool:
    headers = kwarg(call, "headers")
    if headers is None:
        return False
    value = module.eval(headers, scope)
    return value.open or bool(value.key_names() & {"Authorization", "authorization"})


def _sends_credentials(module: Analysis, call: ast.Call, scope: Scope) -> bool:
    if any(kwarg(call, k) is not None for k in ("client_secret", "auth", "code_verifier")):
        return True
    return any(kw.arg is None for kw in call.keywords)


def _session_pkce(receiver: Value | None) -> bool:
    ctor = receiver.ctor if receiver is not None else None
    if ctor is None:
        return True  # unknown session: do not guess
    names = {kw.arg for kw in ctor.keywords}
    return bool(names & {"pkce", "code_challenge_method", "client_secret"}) or None in names


def _payload_keys(module: Analysis, call: ast.Call, scope: Scope) -> tuple[frozenset[str], bool]:
    """The parameters of the request body, and whether there may be others."""
    keys: set[str] = set()
    opened = False
    for name in ("data", "json", "params", "content"):
        node = kwarg(call, name)
        if node is not None:
            value = module.eval(node, scope)
            keys |= value.key_names()
            opened = opened or value.open
    return frozenset(keys), opened


def _grant(module: Analysis, call: ast.Call, scope: Scope) -> str:
    for name in ("data", "json", "params", "content"):
        node = kwarg(call, name)
        grant = module.eval(node, scope).key("grant_type") if node is not None else None
        if grant is not None and grant.text:
            return grant.text
    return ""


def _authlib_registrations(module: Analysis) -> Iterator[Hit]:
    if not module.uses("authlib"):
        return
    for node in module.nodes:
        if not isinstance(node, ast.Call):
            continue
        scope = module.scope_of(node)
        callee = module.resolve(node, scope)
        is_register = (callee.receiver_type, callee.method) == (lib.AUTHLIB_REGISTRY, "register")
        is_session = callee.qualname in (
            "authlib.integrations.requests_client.OAuth2Session",
            "authlib.integrations.httpx_client.OAuth2Client",
            "authlib.integrations.httpx_client.AsyncOAuth2Client",
        )
        if (is_register or is_session) and _authlib_public_no_pkce(module, node, scope):
            yield Hit.at(node, "a public Authlib client without `code_challenge_method='S256'`")


def _authlib_public_no_pkce(module: Analysis, call: ast.Call, scope: Scope) -> bool:
    names = {kw.arg for kw in call.keywords}
    if None in names or "client_secret" in names or "code_challenge_method" in names:
        return False
    kwargs = kwarg(call, "client_kwargs")
    if kwargs is not None:
        value = module.eval(kwargs, scope)
        if value.key("code_challenge_method") is not None or not value.keys:
            return False
    if _is_session_ctor(call):
        return len(call.args) < 2 and (len(call.args) == 1 or "client_id" in names)
    return "client_id" in names


def _is_session_ctor(call: ast.Call) -> bool:
    return not isinstance(call.func, ast.Attribute) or call.func.attr != "register"

"""OA113 nonce-missing."""

from __future__ import annotations

import ast
from collections.abc import Iterator

from valetkey.audit import libraries as lib
from valetkey.audit.analysis import Analysis
from valetkey.audit.index import Scope, kwarg
from valetkey.audit.oauth import Placement, callbacks, placements
from valetkey.audit.registry import AuditConfig, Hit, check
from valetkey.audit.values import Value

from ._helpers import text_tokens


@check("OA113")
def nonce_missing(module: Analysis, config: AuditConfig) -> Iterator[Hit]:
    """Flags: in a module whose authorization request asks for the `openid` scope and that
    uses an ID token (the `id_token` of a token response), the authorization request
    (dict, URL, or requests-oauthlib/Authlib session) sends no `nonce` (reported at the
    request), or the `nonce` claim of the decoded ID token is never compared with a stored
    value (reported at the callback's `def`). Authlib's `authorize_redirect` with
    `authorize_access_token` handles the nonce itself.
    """
    if not module.mentions("id_token") or not module.mentions_part("openid"):
        return
    if not _uses_id_token(module) or _authlib_flow(module):
        return
    requests = [p for p in placements(module) if p.key == "scope" and _has_openid(p)]
    if not requests:
        return
    sent = False
    for p in requests:
        if _sends_nonce(module, p):
            sent = True
        else:
            yield Hit.at(p.container, "OpenID Connect request without a `nonce`")
    if sent and not _compares_nonce(module):
        found = callbacks(module)
        node: ast.AST | None = found[0] if found else _first_id_token_use(module)
        if node is not None:
            yield Hit.at(node, "the ID token's `nonce` is never compared with the stored one")


def _has_openid(p: Placement) -> bool:
    return p.oauth and "openid" in text_tokens(p.value)


def _uses_id_token(module: Analysis) -> bool:
    return _first_id_token_use(module) is not None


def _first_id_token_use(module: Analysis) -> ast.AST | None:
    for node in module.nodes:
        if isinstance(node, ast.Subscript | ast.Call):
            value = module.eval(node, module.scope_of(node))
            if "id_token" in value.field_keys():
                return node
    return None


def _authlib_flow(module: Analysis) -> bool:
    for node in module.nodes:
        if isinstance(node, ast.Call):
            callee = module.resolve(node, module.scope_of(node))
            if (callee.receiver_type, callee.method) == (lib.AUTHLIB_APP, "authorize_redirect"):
                return True
    return False


def _sends_nonce(module: Analysis, p: Placement) -> bool:
    if "nonce" in p.container_keys:
        return True
    if not isinstance(p.container, ast.Call):
        return False
    # a session object built with the scope: look at its authorization_url calls
    for node in module.nodes:
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr in ("authorization_url", "create_authorization_url")
            and kwarg(node, "nonce") is not None
        ):
            return True
    return False


def _compares_nonce(module: Analysis) -> bool:
    for node in module.nodes:
        if isinstance(node, ast.Compare):
            scope = module.scope_of(node)
            for side in (node.left, *node.comparators):
                if "nonce" in _fields(module.eval(side, scope)):
                    return True
        elif isinstance(node, ast.Call):
            scope = module.scope_of(node)
            qual = module.resolve(node, scope).qualname or ""
            if qual in lib.CONSTANT_TIME_COMPARE and any(
                "nonce" in _fields(module.eval(a, scope)) for a in node.args
            ):
                return True
            if qual in lib.CLAIMS_VALIDATORS and kwarg(node, "nonce") is not None:
                return True
            if kwarg(node, "nonce") is not None and _is_validation(node):
                return True
            if _claims_option_nonce(module, node, scope):
                return True
    return False


def _claims_option_nonce(module: Analysis, call: ast.Call, scope: Scope) -> bool:
    """Authlib's `jwt.decode(..., claims_options={"nonce": {"value": n}})` or
    `claims_params={"nonce": n}`, jwcrypto's `check_claims={"nonce": n}`: the decoder compares
    the claim."""
    for name in ("claims_options", "claims_params", "check_claims"):
        node = kwarg(call, name)
        if node is not None and "nonce" in module.eval(node, scope).key_names():
            return True
    return False


def _is_validation(call: ast.Call) -> bool:
    return isinstance(call.func, ast.Attribute) and call.func.attr in (
        "parse_id_token",
        "validate",
        "validate_nonce",
    )


def _fields(value: Value) -> frozenset[str]:
    return value.field_keys()

"""OA101 state-missing."""

from __future__ import annotations

import ast
from collections.abc import Iterator

from valetkey.audit import libraries as lib
from valetkey.audit.analysis import Analysis
from valetkey.audit.index import argument
from valetkey.audit.oauth import Placement, placements
from valetkey.audit.registry import AuditConfig, Hit, check


@check("OA101")
def state_missing(module: Analysis, config: AuditConfig) -> Iterator[Hit]:
    """Flags: a dict, `dict(...)`, URL or f-string that is an authorization request (a
    `response_type` with `client_id` or `redirect_uri`, whatever the flow: code, implicit or
    hybrid; or, for providers that take no `response_type`, a `client_id` sent to an
    authorization endpoint's URL) and no `state` parameter, counting keys added later to the
    same dict and keys of a URL the dict is encoded into; and httpx-oauth's
    `get_authorization_url` or oauthlib's `prepare_request_uri` called without `state`.
    Library calls that generate state
    themselves (requests-oauthlib `authorization_url`, Authlib `create_authorization_url`
    and `authorize_redirect`, MSAL `initiate_auth_code_flow`) are not flagged.

    Silent: a request whose parameters include a `**spread` (or `.update()`) of a mapping
    whose keys are not known: state may be among them.
    """
    seen: set[int] = set()
    spread = _spread_names(module)
    for p in placements(module):
        if id(p.container) in seen or not _is_authorization_request(module, p):
            continue
        name = _assigned_name(module, p.container)
        if name is not None and name in spread:
            continue  # a part merged into another request, judged there
        keys, opened = _copied_keys(module, name)
        if p.container_open or opened or "state" in _enclosing_keys(module, p) | keys:
            continue
        if _library_generates_state(module, p):
            continue
        seen.add(id(p.container))
        yield Hit.at(p.container, _message(p))
    yield from _merged_requests_without_state(module, seen)
    yield from _library_requests_without_state(module)


def _assigned_name(module: Analysis, node: ast.AST) -> str | None:
    parent = module.parents.get(id(node))
    if isinstance(parent, ast.Assign) and len(parent.targets) == 1:
        target = parent.targets[0]
        return target.id if isinstance(target, ast.Name) else None
    return None


def _spread_names(module: Analysis) -> set[str]:
    """Names spread into a dict display (`{**COMMON, ...}`)."""
    return {
        v.id
        for node in module.nodes
        if isinstance(node, ast.Dict)
        for k, v in zip(node.keys, node.values, strict=True)
        if k is None and isinstance(v, ast.Name)
    }


def _copied_keys(module: Analysis, name: str | None) -> tuple[frozenset[str], bool]:
    """Keys added to copies of a base mapping (`params = BASE.copy()`, `dict(BASE)` then
    `params["state"] = ...` or `.setdefault("state", ...)`)."""
    if name is None:
        return frozenset(), False
    keys: set[str] = set()
    opened = False
    for node in module.nodes:
        if not (isinstance(node, ast.Assign) and len(node.targets) == 1):
            continue
        if _copy_of(node.value, name) and isinstance(node.targets[0], ast.Name):
            copy = module.eval(node.targets[0], module.scope_of(node))
            keys |= copy.key_names()
            opened = opened or copy.open
    return frozenset(keys), opened


def _copy_of(node: ast.expr, name: str) -> bool:
    if not isinstance(node, ast.Call):
        return False
    func = node.func
    if isinstance(func, ast.Attribute) and func.attr == "copy" and not node.args:
        return isinstance(func.value, ast.Name) and func.value.id == name
    callee = func.id if isinstance(func, ast.Name) else getattr(func, "attr", "")
    first = node.args[0] if node.args else None
    return (
        callee in ("dict", "copy", "deepcopy") and isinstance(first, ast.Name) and first.id == name
    )


def _merged_requests_without_state(module: Analysis, seen: set[int]) -> Iterator[Hit]:
    """A dict display that spreads a base mapping into an authorization request."""
    for node in module.nodes:
        if not isinstance(node, ast.Dict) or id(node) in seen or None not in node.keys:
            continue
        scope = module.scope_of(node)
        value = module.eval(node, scope)
        named = _assigned_name(module, node)
        keys = set(value.key_names())
        opened = value.open
        if named is not None:
            later = module.name_value(named, node, scope)
            keys |= later.key_names()
            opened = opened or later.open
        response_type = value.key("response_type")
        if response_type is None or not response_type.text or opened:
            continue
        if keys & {"grant_type", "code", "client_secret"} or "state" in keys:
            continue
        if keys & {"client_id", "redirect_uri"}:
            seen.add(id(node))
            yield Hit.at(node, "authorization request for the code flow has no `state`")


def _message(p: Placement) -> str:
    response_type = _response_type(p)
    if response_type and response_type != "code":
        return f"authorization request (`response_type={response_type}`) has no `state`"
    return "authorization request for the code flow has no `state`"


def _response_type(p: Placement) -> str | None:
    if p.key == "response_type":
        return p.value.text
    found = p.value.key("response_type") if p.key == "" else None
    return found.text if found is not None else None


def _is_authorization_request(module: Analysis, p: Placement) -> bool:
    """A front-channel authorization request: `response_type` (any: the code flow, the
    implicit and hybrid flows) with `client_id` or `redirect_uri`, or (providers such as
    GitHub take no `response_type`) `client_id` sent to an authorization endpoint's URL."""
    if p.container_keys & {"grant_type", "code", "client_secret", "refresh_token"}:
        return False  # a token request (some providers add response_type there too)
    if p.key == "response_type":
        return bool(p.value.text) and bool(p.container_keys & {"client_id", "redirect_uri"})
    if p.key != "client_id" or "response_type" in p.container_keys:
        return False
    return _authorize_url(_enclosing_text(module, p))


_AUTHORIZE_PATHS = (
    "/authorize",
    "/oauth2/auth",
    "/oauth/auth",
    "/o/oauth2/v2/auth",
    "/authorization",
)


def _authorize_url(text: str) -> bool:
    path = text.split("?", 1)[0].lower()
    return "://" in path and path.rstrip("/").endswith(_AUTHORIZE_PATHS)


def _enclosing_text(module: Analysis, p: Placement) -> str:
    """The literal text of the URL the placement is part of."""
    node: ast.AST | None = p.container
    best = ""
    while node is not None and not isinstance(node, ast.stmt):
        if isinstance(node, ast.expr):
            text = module.eval(node, p.scope).all_text()
            if "://" in text and len(text) > len(best):
                best = text
        node = module.parents.get(id(node))
    return best


_NO_STATE_UNLESS_GIVEN = {
    (lib.HTTPX_OAUTH_CLIENT, "get_authorization_url"): 1,
    (lib.OAUTHLIB_CLIENT, "prepare_request_uri"): 3,
}


def _library_requests_without_state(module: Analysis) -> Iterator[Hit]:
    """httpx-oauth's `get_authorization_url(redirect_uri, state=None, ...)` and oauthlib's
    `WebApplicationClient.prepare_request_uri(uri, redirect_uri, scope, state)` send no
    state unless given one."""
    if not module.uses("httpx_oauth", "oauthlib"):
        return
    for node in module.nodes:
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
            continue
        if node.func.attr not in ("get_authorization_url", "prepare_request_uri"):
            continue
        scope = module.scope_of(node)
        position = _NO_STATE_UNLESS_GIVEN.get(
            (module.resolve(node, scope).receiver_type or "", node.func.attr)
        )
        if position is None or any(kw.arg is None for kw in node.keywords):
            continue
        if argument(node, position, "state") is None:
            yield Hit.at(node, "authorization request for the code flow has no `state`")


def _enclosing_keys(module: Analysis, p: Placement) -> frozenset[str]:
    """Keys of the placement's container plus those of any URL string it is part of."""
    keys = set(p.container_keys)
    node = module.parents.get(id(p.container))
    while node is not None and not isinstance(node, ast.stmt):
        if isinstance(node, ast.JoinedStr | ast.BinOp):
            keys |= module.eval(node, p.scope).key_names()
        node = module.parents.get(id(node))
    return frozenset(keys)


def _library_generates_state(module: Analysis, p: Placement) -> bool:
    if not isinstance(p.container, ast.Call):
        return False
    callee = module.resolve(p.container, p.scope)
    return (callee.receiver_type, callee.method) in lib.SELF_STATE_AUTH_REQUESTS

"""OA111 no-timeout."""

from __future__ import annotations

import ast
from collections.abc import Iterator

from valetkey.audit import libraries as lib
from valetkey.audit.analysis import Analysis
from valetkey.audit.http_clients import configuration
from valetkey.audit.index import Scope
from valetkey.audit.oauth import HttpCall, call_keyword, http_calls, is_back_channel
from valetkey.audit.registry import AuditConfig, Hit, check


@check("OA111")
def no_timeout(module: Analysis, config: AuditConfig) -> Iterator[Hit]:
    """Flags: a token, userinfo, JWKS or other OAuth call made with `requests` (module
    functions or a `requests.Session`) without `timeout=`, unless the session has a
    mounted adapter that fills in a default timeout or its `request` is wrapped with one;
    a `urllib3` request with no timeout on the call or its `PoolManager`; an httpx or
    aiohttp call given `timeout=None` (or a `Timeout`/`ClientTimeout` that bounds nothing);
    and an httpx or aiohttp client configured so (one finding, on the constructor line).
    httpx (5 s) and aiohttp (5 min) calls without `timeout=` are bounded by the library.

    Silent: calls that pass `**kwargs` (a timeout may be among them), and calls made
    through an OAuth client library (requests-oauthlib, Authlib, MSAL), whose timeouts are
    the library's configuration.
    """
    flagged: set[int] = set()
    for http in http_calls(module):
        if any(kw.arg is None for kw in http.call.keywords) or not is_back_channel(module, http):
            continue
        problem = _unbounded(module, http)
        if problem is None:
            continue
        if isinstance(problem, ast.Call) and problem is not http.call:
            if id(problem) not in flagged:  # the client's own setting: one finding there
                flagged.add(id(problem))
                yield Hit.at(problem, "this client, used for OAuth calls, has no timeout")
            continue
        yield Hit.at_keyword(http.call, ("timeout",), "OAuth call without a timeout")


def _unbounded(module: Analysis, http: HttpCall) -> ast.AST | None:
    """Where the missing timeout is: the call, or the constructor of a client configured
    without one; None when the call is bounded."""
    timeout = call_keyword(http, "timeout")
    config = configuration(module, http.receiver)
    if http.client_type in lib.OAUTH_SESSIONS:
        return None  # the OAuth library's own calls: its defaults are its business
    if http.client_type in lib.REQUESTS_BASED:
        if config is not None and (
            config.default_timeout is not None or config.setting("default_timeout") is not None
        ):
            return None
        return http.call if timeout is None or _is_none(timeout) else None
    if http.client_type in (lib.HTTPX_MODULE, lib.HTTPX_CLIENT, lib.AIOHTTP_SESSION):
        if timeout is not None:
            return http.call if _no_limit(module, timeout, http.scope) else None
        setting = config.setting("timeout") if config is not None else None
        if config is not None and setting is not None and _no_limit(module, setting, None):
            return config.ctor
        return None
    if http.client_type == lib.URLLIB3_POOL:
        if timeout is not None:
            return http.call if _is_none(timeout) else None
        setting = config.setting("timeout") if config is not None else None
        return http.call if setting is None or _is_none(setting) else None
    return None


def _no_limit(module: Analysis, node: ast.expr, scope: Scope | None) -> bool:
    """`None`, or an `httpx.Timeout(None)` / `aiohttp.ClientTimeout(total=None)` that
    bounds nothing."""
    if _is_none(node):
        return True
    if not isinstance(node, ast.Call):
        return False
    qual = module.qualname_of(node.func) or ""
    if qual in ("httpx.Timeout", "aiohttp.ClientTimeout"):
        given = [*node.args, *(k.value for k in node.keywords)]
        return (bool(given) and all(_is_none(v) for v in given)) or (
            qual == "aiohttp.ClientTimeout" and not given
        )
    return False


def _is_none(node: ast.expr | None) -> bool:
    return isinstance(node, ast.Constant) and node.value is None

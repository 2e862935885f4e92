"""OA111 no-timeout."""

from __future__ import annotations

import ast
from collections.abc import Iterator

from valetkey.audit import libraries as lib
from valetkey.audit.analysis import Analysis
from valetkey.audit.index import kwarg
from valetkey.audit.model import Severity
from valetkey.audit.oauth import HttpCall, http_calls, is_back_channel
from valetkey.audit.registry import AuditConfig, Hit, check


@check(
    id="OA111",
    slug="no-timeout",
    severity=Severity.LOW,
    clause="robustness (Bandit B113)",
    fix="Pass `timeout=10` (or another bound) to every token, userinfo and JWKS call.",
    references=("https://requests.readthedocs.io/en/latest/user/advanced/#timeouts",),
)
def no_timeout(module: Analysis, config: AuditConfig) -> Iterator[Hit]:
    """An OAuth back-channel call can wait forever.

    What: a token, userinfo, JWKS or other OAuth call made with `requests` (module
    functions, `requests.Session`, requests-oauthlib's `OAuth2Session` including
    `fetch_token`, Authlib's requests session) without `timeout=`; or an httpx call or
    client given `timeout=None` (httpx has a 5 s default, so plain httpx calls are fine).
    Calls that pass `**kwargs` are not judged.

    Why: `requests` has no default timeout; a provider that stops answering ties up a
    worker per login until the process is restarted, an easy denial of service.

    Bad:
        import requests

        def profile(access_token: str) -> dict[str, str]:
            reply = requests.get("https://api.example/userinfo",
                                 headers={"Authorization": f"Bearer {access_token}"})
            return reply.json()

    Good:
        import requests

        def profile(access_token: str) -> dict[str, str]:
            reply = requests.get("https://api.example/userinfo", timeout=10,
                                 headers={"Authorization": f"Bearer {access_token}"})
            return reply.json()
    """
    for http in http_calls(module):
        if _unbounded(http) and is_back_channel(module, http):
            yield Hit.at(http.call, "OAuth call without a timeout")


def _unbounded(http: HttpCall) -> bool:
    if any(kw.arg is None for kw in http.call.keywords):
        return False
    timeout = kwarg(http.call, "timeout")
    ctor = http.receiver.ctor if http.receiver is not None else None
    if http.client_type in lib.REQUESTS_BASED:
        if ctor is not None and kwarg(ctor, "default_timeout") is not None:
            return False
        return timeout is None or _is_none(timeout)
    if http.client_type in (lib.HTTPX_MODULE, lib.HTTPX_CLIENT):
        if timeout is not None:
            return _is_none(timeout)
        return ctor is not None and _is_none(kwarg(ctor, "timeout"))
    return False


def _is_none(node: ast.expr | None) -> bool:
    return isinstance(node, ast.Constant) and node.value is None

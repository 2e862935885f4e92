"""OA101 state-missing."""

from __future__ import annotations

import ast
from collections.abc import Iterator

from valetkey.audit import libraries as lib
from valetkey.audit.analysis import Analysis
from valetkey.audit.model import Severity
from valetkey.audit.oauth import Placement, placements
from valetkey.audit.registry import AuditConfig, Hit, check


@check(
    id="OA101",
    slug="state-missing",
    severity=Severity.HIGH,
    clause="RFC 6749 §10.12; RFC 9700 §2.1, §4.7",
    fix="Generate `state = secrets.token_urlsafe(32)`, keep it in the session and send it.",
    references=(
        "https://www.rfc-editor.org/rfc/rfc6749#section-10.12",
        "https://www.rfc-editor.org/rfc/rfc9700#section-4.7",
    ),
)
def state_missing(module: Analysis, config: AuditConfig) -> Iterator[Hit]:
    """An authorization request for the code flow is built without `state`.

    What: a dict, `dict(...)`, URL or f-string that carries `response_type=code` together
    with `client_id` or `redirect_uri` (an authorization request) and no `state` parameter,
    counting keys added later to the same dict and keys of a URL the dict is encoded into.
    Library calls that generate state themselves (requests-oauthlib `authorization_url`,
    Authlib `create_authorization_url` and `authorize_redirect`) are not flagged.

    Why: without `state` the callback cannot tell its own authorization response from one
    an attacker started, so a victim can be logged into the attacker's account (login CSRF).
    RFC 6749 §10.12 requires CSRF protection of the redirect URI; RFC 9700 §4.7 keeps `state`
    (or PKCE) as that protection.

    Bad:
        from urllib.parse import urlencode

        from flask import Flask, redirect

        app = Flask(__name__)

        @app.route("/login")
        def login():
            query = urlencode({"response_type": "code", "client_id": "photo-printer",
                               "redirect_uri": "https://printer.example/callback"})
            return redirect("https://auth.example/authorize?" + query)

    Good:
        import secrets
        from urllib.parse import urlencode

        from flask import Flask, redirect, session

        app = Flask(__name__)

        @app.route("/login")
        def login():
            session["oauth_state"] = secrets.token_urlsafe(32)
            query = urlencode({"response_type": "code", "client_id": "photo-printer",
                               "redirect_uri": "https://printer.example/callback",
                               "state": session["oauth_state"]})
            return redirect("https://auth.example/authorize?" + query)
    """
    seen: set[int] = set()
    for p in placements(module):
        if not _is_code_request(p) or "state" in _enclosing_keys(module, p):
            continue
        if _library_generates_state(module, p) or id(p.container) in seen:
            continue
        seen.add(id(p.container))
        yield Hit.at(p.container, "authorization request for the code flow has no `state`")


def _is_code_request(p: Placement) -> bool:
    if p.key != "response_type" or "code" not in (p.value.text or "").split():
        return False
    if p.container_keys & {"grant_type", "code"}:
        return False  # a token request (some providers add response_type there too)
    return bool(p.container_keys & {"client_id", "redirect_uri"})


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

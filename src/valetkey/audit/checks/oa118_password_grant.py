"""OA118 password-grant."""

from __future__ import annotations

import ast
from collections.abc import Iterator

from valetkey.audit import libraries as lib
from valetkey.audit.analysis import Analysis
from valetkey.audit.index import kwarg
from valetkey.audit.oauth import placements
from valetkey.audit.registry import AuditConfig, Hit, check
from valetkey.audit.values import Kind

from ._helpers import first_line


@check("OA118")
def password_grant(module: Analysis, config: AuditConfig) -> Iterator[Hit]:
    """Flags: `grant_type=password` in a request dict, URL or call; oauthlib's
    `LegacyApplicationClient`; or `fetch_token(..., username=..., password=...)` on a
    requests-oauthlib or Authlib session (which sends the password grant).
    """
    for p in placements(module):
        if p.key == "grant_type" and p.value.text == "password":
            lit = first_line(p.value, Kind.LITERAL)
            yield Hit(
                lit.line if lit else int(getattr(p.node, "lineno", 1)),
                lit.col if lit else 0,
                "the resource-owner password grant is used",
            )
    oauth_libraries = module.uses("oauthlib", "requests_oauthlib", "authlib")
    for node in module.nodes if oauth_libraries else ():
        if not isinstance(node, ast.Call):
            continue
        callee = module.resolve(node, module.scope_of(node))
        if (callee.qualname or "").endswith("LegacyApplicationClient") and (
            (callee.qualname or "").startswith(("oauthlib.", "requests_oauthlib."))
        ):
            yield Hit.at(node, "LegacyApplicationClient runs the password grant")
        elif callee.receiver_type in (lib.OAUTH2SESSION, lib.AUTHLIB_SESSION) and (
            callee.method == "fetch_token"
            and kwarg(node, "username") is not None
            and kwarg(node, "password") is not None
        ):
            yield Hit.at(node, "fetch_token with username and password runs the password grant")

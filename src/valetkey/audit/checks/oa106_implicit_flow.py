"""OA106 implicit-flow."""

from __future__ import annotations

import ast
from collections.abc import Iterator

from valetkey.audit.analysis import Analysis
from valetkey.audit.oauth import placements
from valetkey.audit.registry import AuditConfig, Hit, check
from valetkey.audit.values import Kind

from ._helpers import first_line

_IMPLICIT_CLIENTS = frozenset(
    {
        "oauthlib.oauth2.MobileApplicationClient",
        "oauthlib.oauth2.rfc6749.clients.MobileApplicationClient",
        "oauthlib.oauth2.rfc6749.clients.mobile_application.MobileApplicationClient",
    }
)


@check("OA106")
def implicit_flow(module: Analysis, config: AuditConfig) -> Iterator[Hit]:
    """Flags: a `response_type` whose space-separated values include `token` (`token`,
    `id_token token`, `code token`, `code id_token token`) or that is `id_token` alone,
    set in a dict, URL or call; or oauthlib's `MobileApplicationClient` (the implicit
    grant) is used.
    """
    for p in placements(module):
        if p.key != "response_type" or p.value.text is None:
            continue
        parts = set(p.value.text.split())
        if "token" in parts or parts == {"id_token"}:
            lit = first_line(p.value, Kind.LITERAL)
            line, col = (lit.line, lit.col) if lit else (int(getattr(p.node, "lineno", 1)), 0)
            yield Hit(line, col, f"`response_type={p.value.text}` returns a token in the browser")
    for node in module.nodes if module.uses("oauthlib", "requests_oauthlib") else ():
        if isinstance(node, ast.Call):
            qual = module.resolve(node, module.scope_of(node)).qualname
            if qual in _IMPLICIT_CLIENTS:
                yield Hit.at(node, "MobileApplicationClient runs the implicit grant")

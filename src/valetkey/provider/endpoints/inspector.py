"""The flow inspector: recent flows, and each one as a sequence diagram with its checks.

Server-rendered SVG, no scripts; a flow still in progress reloads itself every two seconds.
Records hold no password, secret or whole token (see `flows.py`), so the pages cannot leak
one. The check reference lists every registered check with its documentation.
"""

from __future__ import annotations

import re
import time
from types import ModuleType

from valetkey.provider.checks import REGISTRY
from valetkey.provider.core import Provider
from valetkey.provider.http import Request, Response

FLOW_ID = re.compile(r"[0-9a-f]{16}")
DOCS = "/inspector/checks"


def _records() -> ModuleType:
    """The diagram code, imported on the first inspector page rather than at start-up."""
    from valetkey.trace import records

    return records


def flow_list(provider: Provider, request: Request) -> Response:
    flows = provider.store.flows(100)
    for flow in flows:
        flow["started"] = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(flow["started_at"]))
    return provider.pages.render("inspector_list.html", flows=flows)


def _flow_id(request: Request, suffix: str = "") -> str | None:
    raw = request.path.rsplit("/", 1)[-1].removesuffix(suffix)
    return raw if FLOW_ID.fullmatch(raw) else None


def flow_page(provider: Provider, request: Request) -> Response:
    flow_id = _flow_id(request)
    flow = provider.store.flow(flow_id) if flow_id else None
    if flow is None or flow_id is None:
        return provider.page_error("No such flow", "It may have been pruned. See /inspector.", 404)
    events = provider.store.flow_events(flow_id)
    records = _records()
    return provider.pages.render(
        "inspector_flow.html",
        flow=flow,
        svg=records.svg(events, f"Flow {flow_id}", provider.path(DOCS)),
        steps=records.arrows(events),
        password=records.password_note(events),
        stopped=records.stopped_note(events),
        live=flow["outcome"] == "in_progress",
        names=records.NAMES,
    )


def flow_svg(provider: Provider, request: Request) -> Response:
    flow_id = _flow_id(request, ".svg")
    if flow_id is None or provider.store.flow(flow_id) is None:
        return provider.page_error("No such flow", "See /inspector.", 404)
    events = provider.store.flow_events(flow_id)
    body = _records().svg(events, f"Flow {flow_id}", provider.path(DOCS))
    return Response(
        200,
        body.encode(),
        [
            ("content-type", "image/svg+xml"),
            ("cache-control", "no-store"),
            ("content-security-policy", "default-src 'none'"),
        ],
    )


def check_reference(provider: Provider, request: Request) -> Response:
    by_id: dict[str, list[object]] = {}
    for check in REGISTRY:
        by_id.setdefault(check.id or check.clause, []).append(check)
    return provider.pages.render(
        "inspector_checks.html", groups=sorted(by_id.items(), key=lambda kv: kv[0])
    )

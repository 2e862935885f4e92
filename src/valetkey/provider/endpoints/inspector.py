"""The flow inspector: recent flows, and each one as a sequence diagram with its checks.

Server-rendered SVG, no scripts; a flow still in progress reloads itself every two seconds.
Records hold no password, secret or whole token (see `flows.py`), so the pages cannot leak
one. The check reference lists every registered check with its documentation and the title
and reason of its id in the check catalogue; `/inspector/checks/AS-23` shows the whole entry.

Flows still show who signed in to which app, so they are open to anyone only when the
sandbox listens on loopback and its issuer is a loopback URL; otherwise they need the admin
token (as a Bearer token, or as the password of the browser's Basic sign-in prompt).
"""

from __future__ import annotations

import base64
import binascii
import re
import time
from collections.abc import Callable
from types import ModuleType
from urllib.parse import urlsplit

from valetkey import catalogue
from valetkey.oauth.redirect_uris import is_loopback
from valetkey.provider.checks import REGISTRY, Check
from valetkey.provider.core import Provider
from valetkey.provider.http import Request, Response
from valetkey.provider.tokens import same

FLOW_ID = re.compile(r"[0-9a-f]{16}")
ENTRY_ID = re.compile(r"[A-Za-z]{2}-?[0-9]{1,3}")
DOCS = "/inspector/checks"


def _records() -> ModuleType:
    """The diagram code, imported on the first inspector page rather than at start-up."""
    from valetkey.trace import records

    return records


def open_to_all(provider: Provider) -> bool:
    """Only this machine can reach the sandbox: a loopback bind and a loopback issuer."""
    issuer_host = urlsplit(provider.issuer).hostname or ""
    return is_loopback(provider.settings.host) and is_loopback(issuer_host)


def _presented_token(request: Request) -> str:
    scheme, _, value = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() == "bearer":
        return value.strip()
    if scheme.lower() == "basic":
        try:
            decoded = base64.b64decode(value.strip(), validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            return ""
        return decoded.partition(":")[2]  # any user name, the admin token as password
    return ""


def _allowed(provider: Provider, request: Request) -> Response | None:
    """None when the request may see flows, else the page that says why not."""
    if open_to_all(provider):
        return None
    if not provider.admin_token:
        return provider.page_error(
            "The inspector is off",
            "This sandbox is reachable beyond this machine; set VALETKEY_ADMIN_TOKEN to use it.",
            404,
        )
    if same(_presented_token(request), provider.admin_token):
        return None
    response = provider.page_error(
        "Sign in to the inspector",
        "Flows are shown only with the admin token: give it as the password when asked.",
        401,
    )
    response.headers.append(("www-authenticate", 'Basic realm="valetkey inspector"'))
    return response


Handler = Callable[[Provider, Request], Response]


def guarded(handler: Handler) -> Handler:
    def run(provider: Provider, request: Request) -> Response:
        refused = _allowed(provider, request)
        return refused if refused is not None else handler(provider, request)

    return run


@guarded
def flow_list(provider: Provider, request: Request) -> Response:
    flows = provider.store.flows(100)
    for flow in flows:
        flow["started"] = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(flow["started_at"]))
    return provider.pages.render("inspector_list.html", flows=flows)


def _flow_id(request: Request, suffix: str = "") -> str | None:
    raw = request.path.rsplit("/", 1)[-1].removesuffix(suffix)
    return raw if FLOW_ID.fullmatch(raw) else None


@guarded
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


@guarded
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


def _by_id() -> dict[str, list[Check[object]]]:
    """The registered checks grouped by catalogue id (by clause where they have none)."""
    groups: dict[str, list[Check[object]]] = {}
    for check in REGISTRY:
        groups.setdefault(check.id or check.clause, []).append(check)
    return groups


def check_reference(provider: Provider, request: Request) -> Response:
    groups = [
        (name, catalogue.lookup(name) if name[:3] == "AS-" else None, checks)
        for name, checks in sorted(_by_id().items(), key=lambda kv: kv[0])
    ]
    return provider.pages.render("inspector_checks.html", groups=groups)


def check_entry(provider: Provider, request: Request) -> Response:
    """One catalogue entry (any family, any case: `/inspector/checks/as-23`), and the
    sandbox's checks that enforce it."""
    raw = request.path.rsplit("/", 1)[-1]
    entry = catalogue.lookup(raw) if ENTRY_ID.fullmatch(raw) else None
    if entry is None:
        return provider.page_error(
            "No such check id", "See /inspector/checks for the ids the sandbox checks.", 404
        )
    return provider.pages.render(
        "inspector_check.html", entry=entry, enforced=_by_id().get(entry.id, [])
    )

"""The probe-mode control API (only with `--probe-mode`): read the back-channel log, and
forge the next token or authorization response for a client.

Both need the admin token (`Authorization: Bearer`): a header no cross-site form can send,
so neither a page on another port nor another local user can read the log or plant a
forgery. The log is read per client (`client_id=`), so two probes can share one sandbox."""

from __future__ import annotations

import json
from collections.abc import Callable

from valetkey.provider.core import Provider
from valetkey.provider.endpoints.admin import guarded
from valetkey.provider.http import Request, Response, json_response
from valetkey.provider.probe_mode import AUTHORIZATION_FORGERIES, TOKEN_FORGERIES

Handler = Callable[[Provider, Request], Response]


def _off() -> Response:
    return json_response(
        {"error": "not_found", "error_description": "start the sandbox with --probe-mode"}, 404
    )


def _probe_mode_only(handler: Handler) -> Handler:
    protected = guarded(handler)

    def run(provider: Provider, request: Request) -> Response:
        return _off() if provider.probe is None else protected(provider, request)

    return run


def _log(provider: Provider, request: Request) -> Response:
    """Query: client_id (only that client's events; all without it), since (a seq number)."""
    assert provider.probe is not None
    since = request.query.get("since") or "0"
    start = int(since) if since.isdigit() else 0
    client_id = request.query.get("client_id")
    events, following = provider.probe.events(client_id, start)
    return json_response({"events": events, "next": following})


def _forge(provider: Provider, request: Request) -> Response:
    """Form fields: client_id, where (token|authorization), how (one of the forgeries)."""
    assert provider.probe is not None
    client_id = request.form.get("client_id") or ""
    where, how = request.form.get("where"), request.form.get("how") or ""
    choices = {"token": TOKEN_FORGERIES, "authorization": AUTHORIZATION_FORGERIES}
    if where not in choices or how not in choices[where]:
        return json_response(
            {
                "error": "invalid_request",
                "error_description": f"where is token or authorization; how is one of "
                f"{json.dumps(choices)}",
            },
            400,
        )
    table = (
        provider.probe.token_forgery if where == "token" else provider.probe.authorization_forgery
    )
    table[client_id] = how
    return json_response({"client_id": client_id, "where": where, "how": how})


probe_log = _probe_mode_only(_log)
probe_forge = _probe_mode_only(_forge)

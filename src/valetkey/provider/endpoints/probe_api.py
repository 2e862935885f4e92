"""The probe-mode control API (only with `--probe-mode`): read the back-channel log, and
forge the next token or authorization response for a client."""

from __future__ import annotations

import json

from valetkey.provider.core import Provider
from valetkey.provider.http import Request, Response, json_response
from valetkey.provider.probe_mode import AUTHORIZATION_FORGERIES, TOKEN_FORGERIES


def _off() -> Response:
    return json_response(
        {"error": "not_found", "error_description": "start the sandbox with --probe-mode"}, 404
    )


def probe_log(provider: Provider, request: Request) -> Response:
    if provider.probe is None:
        return _off()
    since = request.query.get("since") or "0"
    start = int(since) if since.isdigit() else 0
    return json_response({"events": provider.probe.log[start:]})


def probe_forge(provider: Provider, request: Request) -> Response:
    """Form fields: client_id, where (token|authorization), how (one of the forgeries)."""
    if provider.probe is None:
        return _off()
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

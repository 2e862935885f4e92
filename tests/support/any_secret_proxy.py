"""A test double of a careless authorization server: a reverse proxy in front of the sandbox
that accepts any client secret (it swaps whatever secret the client sent for the real one,
like oidc-provider-mock does)."""

from __future__ import annotations

import base64

from starlette.applications import Starlette

from tests.support.careless_proxy import Outgoing, careless_proxy


def any_secret_proxy(upstream: str, client_id: str, secret: str) -> Starlette:
    real_basic = "Basic " + base64.b64encode(f"{client_id}:{secret}".encode()).decode()

    def any_secret(request: Outgoing) -> Outgoing:
        if request.path != "/token":
            return request
        if request.headers.get("authorization", "").startswith("Basic "):
            request.headers["authorization"] = real_basic
        if request.get("client_secret") is not None:
            request.set_form("client_secret", secret)
        return request

    return careless_proxy(upstream, any_secret)

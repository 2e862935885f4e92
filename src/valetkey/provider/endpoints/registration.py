"""The registration endpoint (RFC 7591 §3): a client registers itself.

Off with `valetkey serve --no-registration` (then 404, and not advertised). The loader
counts the self-registered clients against the cap; `checks.rfc7591` judges the request;
then the client is stored with the origin `dynamic` and answered as RFC 7591 §3.2.1 says.
"""

from __future__ import annotations

import secrets
from typing import Any

from valetkey.oauth.client_metadata import client_secret
from valetkey.oauth.vocabulary import AUTHORIZATION_SERVER, CLIENT
from valetkey.provider.checks import CheckResult
from valetkey.provider.checks.rfc7591 import REGISTRATION_CHECKS, RegistrationContext
from valetkey.provider.core import Provider
from valetkey.provider.errors import MethodNotAllowed, OAuthError
from valetkey.provider.http import Request, Response, json_response
from valetkey.provider.registration import client_record
from valetkey.provider.store.records import Client


def load(provider: Provider, request: Request) -> RegistrationContext:
    """The request, a fresh client id, and the count of self-registered clients."""
    client_id = "dyn-" + secrets.token_urlsafe(16)
    registered = provider.store.count_clients("dynamic")
    return RegistrationContext(
        request, client_id, registered, provider.settings.max_dynamic_clients
    )


def registered_view(client: Client, issued_at: int) -> dict[str, Any]:
    """RFC 7591 §3.2.1: the client id, when it was issued, and the metadata as registered."""
    return {
        "client_id": client.client_id,
        "client_id_issued_at": issued_at,
        "client_name": client.name,
        "redirect_uris": list(client.redirect_uris),
        "grant_types": sorted(client.grant_types),
        "response_types": sorted(client.response_types),
        "token_endpoint_auth_method": client.token_endpoint_auth_method,
        "scope": " ".join(sorted(client.scopes)),
        "application_type": client.application_type,
        "id_token_signed_response_alg": client.id_token_signed_response_alg,
    }


def register(provider: Provider, request: Request) -> Response:
    if not provider.settings.registration:
        return provider.not_found()
    if request.method != "POST":  # RFC 7591 §3.1
        return json_response(
            MethodNotAllowed("register with a POST").body(), 405, [("allow", "POST")]
        )
    ctx = load(provider, request)
    results: list[CheckResult] = []
    flow_id = provider.flows.start(ctx.client_id)
    try:
        provider.table(REGISTRATION_CHECKS).run(ctx, results)
    except OAuthError as exc:
        _record(provider, flow_id, results, exc.error)
        return json_response(exc.body(), exc.status)
    assert ctx.metadata is not None
    secret = client_secret(None, ctx.metadata.public)
    client = client_record(ctx.metadata, secret, origin="dynamic")
    now = provider.clock.now()
    provider.store.add_client(client, now)
    _record(provider, flow_id, results, None)
    body = registered_view(client, int(now))
    if secret is not None:  # RFC 7591 §3.2.1: 0 means the secret does not expire
        body |= {"client_secret": secret, "client_secret_expires_at": 0}
    return json_response(body, 201)


def _record(
    provider: Provider, flow_id: str, results: list[CheckResult], error: str | None
) -> None:
    provider.flows.record(
        flow_id,
        "client_registration",
        (CLIENT, AUTHORIZATION_SERVER, "back"),
        "The client registers itself at the registration endpoint (RFC 7591)."
        + (f" Refused: {error}." if error else ""),
        {},
        results,
        outcome="failed" if error else None,
    )

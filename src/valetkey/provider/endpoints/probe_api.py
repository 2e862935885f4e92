"""The probe-mode control API (only with `--probe-mode`): read the back-channel log, and
forge the next token or authorization response for a client.

Both need the admin token (`Authorization: Bearer`): a header no cross-site form can send,
so neither a page on another port nor another local user can read the log or plant a
forgery. The log is read per client (`client_id=`), so two probes can share one sandbox."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from valetkey.oauth import strict_json
from valetkey.provider.core import Provider
from valetkey.provider.endpoints.admin import guarded
from valetkey.provider.http import Request, Response, json_response
from valetkey.provider.probe_mode import (
    AUTHORIZATION_FORGERIES,
    KID_OF_SIGNING_KEY,
    MINT_SIGNINGS,
    TOKEN_FORGERIES,
    Crafted,
    mint_crafted,
)
from valetkey.provider.store.records import Token

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


def _bad_mint(description: str) -> Response:
    return json_response({"error": "invalid_request", "error_description": description}, 400)


def _mint_request(body: bytes) -> tuple[dict[str, Any], str, object, bool] | str:
    """The parsed /probe/mint body, or what is wrong with it."""
    try:
        data = strict_json.loads_object(body or b"{}")
    except ValueError as exc:
        return f"the body must be a JSON object ({exc})"
    claims, signing = data.get("claims", {}), data.get("signing", "sandbox")
    kid = data.get("kid", KID_OF_SIGNING_KEY)
    if not isinstance(claims, dict) or len(json.dumps(claims)) > 16 * 1024:
        return "claims must be a JSON object of at most 16 KiB"
    if signing not in MINT_SIGNINGS:
        return f"signing is one of {list(MINT_SIGNINGS)}"
    if kid is not KID_OF_SIGNING_KEY and not (kid is None or (isinstance(kid, str) and kid)):
        return "kid is a non-empty string, null (no kid header) or left out (the key's kid)"
    if not isinstance(data.get("revoked", False), bool):
        return "revoked is true or false"
    return claims, signing, kid, bool(data.get("revoked", False))


def _stored(crafted: Crafted, claims: dict[str, Any], now: float, revoked: bool) -> Token:
    """The token row that lets introspection, revocation and the resource server know a
    sandbox-signed crafted token (its id is the jti, as for every access-token JWT)."""
    exp, scope, client_id = claims.get("exp"), claims.get("scope"), claims.get("client_id")
    expires = float(exp) if isinstance(exp, int | float) and not isinstance(exp, bool) else now
    return Token(
        id=crafted.jti,
        kind="access",
        grant_id=None,
        client_id=client_id if isinstance(client_id, str) else "probe",
        user_id=None,
        scope=scope if isinstance(scope, str) else "",
        created_at=now,
        expires_at=expires if exp is not None else now + 3600,
        revoked_at=now if revoked else None,
        used_at=None,
    )


def _mint(provider: Provider, request: Request) -> Response:
    """JSON: claims (set freely: iss, aud, exp, scope ...), signing (one of MINT_SIGNINGS),
    kid (a string, null for none, left out for the signing key's), revoked (store it revoked).
    A sandbox-signed token is stored, so introspection and revocation know it."""
    parsed = _mint_request(request.body)
    if isinstance(parsed, str):
        return _bad_mint(parsed)
    claims, signing, kid, revoked = parsed
    crafted = mint_crafted(claims, signing, kid, provider.keys)
    if signing == "sandbox":
        now = provider.clock.now()
        provider.store.issue(None, [_stored(crafted, claims, now, revoked)])
    return json_response(
        {"access_token": crafted.value, "jti": crafted.jti, "header": crafted.header}
    )


probe_log = _probe_mode_only(_log)
probe_mint = _probe_mode_only(_mint)
probe_forge = _probe_mode_only(_forge)

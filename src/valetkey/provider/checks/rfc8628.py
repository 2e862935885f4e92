"""RFC 8628 device authorization: the checks of the device authorization endpoint and of
the device_code grant at the token endpoint.

The device polls the token endpoint while the user decides on another screen; each poll is
recorded (an action, performed after the table), so a device that polls faster than its
interval is told to `slow_down` and its interval grows by 5 seconds (§3.5).
"""

from __future__ import annotations

from valetkey.oauth.client_metadata import DEVICE_CODE
from valetkey.provider.checks import RecordPoll, Table, TokenContext, check, rfc6749
from valetkey.provider.errors import (
    AuthorizationPending,
    ExpiredToken,
    InvalidGrant,
    InvalidScope,
    OAuthError,
    SlowDown,
    UnauthorizedClient,
)

SLOW_DOWN_STEP = 5  # seconds added to the interval at each slow_down (RFC 8628 §3.5)


class DeviceAccessDenied(OAuthError):
    """RFC 8628 §3.5: the user denied the request (a token error: 400)."""

    error = "access_denied"


@check("", "RFC 8628 §3.1; RFC 6749 §5.2", needs=("client",))
def device_grant_registered(ctx: TokenContext) -> None:
    """The client is registered for the device_code grant."""
    assert ctx.client is not None
    if DEVICE_CODE not in ctx.client.grant_types:
        raise UnauthorizedClient(f"this client is not registered for {DEVICE_CODE}")


@check("", "RFC 8628 §3.1; RFC 6749 §3.3", needs=("client",), sets=("scopes",))
def device_scope_registered(ctx: TokenContext) -> None:
    """Every scope asked for is registered for the client."""
    assert ctx.client is not None
    requested = ctx.params.get("scope")
    scopes = rfc6749.requested_scope(requested or " ".join(sorted(ctx.client.scopes)))
    unknown = sorted(scopes.names - ctx.client.scopes)
    if unknown:
        raise InvalidScope(f"scope not allowed for this client: {' '.join(unknown)}")
    ctx.scopes = scopes


@check("", "RFC 8628 §3.4", needs=("client",), sets=("device",))
def device_code_known(ctx: TokenContext) -> None:
    """device_code names a device request of this client."""
    assert ctx.client is not None
    device = ctx.presented_device
    if ctx.params.get("device_code") is None:
        raise InvalidGrant("device_code is required")
    if device is None or device.client_id != ctx.client.client_id:
        raise InvalidGrant("the device_code is not valid for this client")
    ctx.device = device


@check("", "RFC 8628 §3.5", needs=("device",))
def device_code_not_expired(ctx: TokenContext) -> None:
    """The device code has not expired (`expired_token`)."""
    assert ctx.device is not None
    if ctx.device.expires_at <= ctx.now:
        raise ExpiredToken("the device code expired: start a new device authorization")


@check("", "RFC 8628 §3.5", needs=("device",))
def device_polls_slowly(ctx: TokenContext) -> None:
    """The device waits its interval between polls; faster is `slow_down` (+5 s)."""
    device = ctx.device
    assert device is not None
    last = device.last_polled_at
    if last is not None and ctx.now - last < device.poll_interval:
        interval = device.poll_interval + SLOW_DOWN_STEP
        ctx.actions.append(RecordPoll(device.device_code_hash, interval))
        raise SlowDown(f"poll at most every {interval} seconds")
    ctx.actions.append(RecordPoll(device.device_code_hash, device.poll_interval))


@check("", "RFC 8628 §3.5", needs=("device",))
def device_decided(ctx: TokenContext) -> None:
    """The user approved the request: not yet is `authorization_pending`, denied is
    `access_denied`, and a request whose tokens were issued is `invalid_grant`."""
    assert ctx.device is not None
    status = ctx.device.status
    if status == "pending":
        raise AuthorizationPending("the user has not decided yet; poll again later")
    if status == "denied":
        raise DeviceAccessDenied("the user denied the request")
    if status != "approved":
        raise InvalidGrant("the device code was already used")


DEVICE_AUTHORIZATION_CHECKS = Table.of(
    "device authorization",
    [
        rfc6749.token_request_is_post,
        rfc6749.no_query_parameters,
        rfc6749.form_encoded,
        rfc6749.token_parameters_not_repeated,
        rfc6749.client_authenticated,
        device_grant_registered,
        device_scope_registered,
    ],
    given=("credentials",),  # by the endpoint, before the table
)
DEVICE_CODE_CHECKS = Table.of(
    "token: device_code",
    [device_code_known, device_code_not_expired, device_polls_slowly, device_decided],
    given=("client", "grant_type"),
)

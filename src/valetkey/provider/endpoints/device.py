"""RFC 8628 device authorization: the device authorization endpoint (§3.1, §3.2) and the
user-code page (§3.3), which hands over to the usual login and consent pages."""

from __future__ import annotations

import secrets

from valetkey.oauth.vocabulary import AUTHORIZATION_SERVER, CLIENT
from valetkey.provider.checks import CheckResult, TokenContext
from valetkey.provider.checks.rfc8628 import DEVICE_AUTHORIZATION_CHECKS
from valetkey.provider.core import Provider
from valetkey.provider.device_flow import DEVICE_REDIRECT, spelled
from valetkey.provider.endpoints.authorize import proceed
from valetkey.provider.endpoints.token import error_response
from valetkey.provider.errors import OAuthError
from valetkey.provider.http import Request, Response, json_response
from valetkey.provider.store.records import AuthRequest, DeviceCode
from valetkey.provider.tokens import digest, random_value

USER_CODE_ALPHABET = "BCDFGHJKLMNPQRSTVWXZ"  # RFC 8628 §6.1: no vowels, no look-alikes
USER_CODE_LENGTH = 8  # 20^8: about 34 bits, for a code that lives 10 minutes
DEVICE_CODE_TTL = 600
POLL_INTERVAL = 5  # RFC 8628 §3.2: the default


def _user_code() -> str:
    return "".join(secrets.choice(USER_CODE_ALPHABET) for _ in range(USER_CODE_LENGTH))


def _new_device(provider: Provider, ctx: TokenContext, device_code: str) -> DeviceCode:
    """Store the request under a user code nobody else holds."""
    assert ctx.client is not None
    flow_id = provider.flows.start(ctx.client.client_id)
    for _ in range(5):
        device = DeviceCode(
            digest(device_code),
            _user_code(),
            ctx.client.client_id,
            str(ctx.scopes),
            flow_id,
            ctx.now + DEVICE_CODE_TTL,
            POLL_INTERVAL,
            None,
            "pending",
            None,
            None,
        )
        if provider.store.save_device_code(device):
            return device
    raise OAuthError("could not draw a free user code; try again")


def device_authorization(provider: Provider, request: Request) -> Response:
    """RFC 8628 §3.1: the client asks; §3.2: a device code, a user code and where to go."""
    ctx = TokenContext(request, provider.clock.now(), provider.dpop)
    provider.load_credentials(ctx)
    results: list[CheckResult] = []
    try:
        provider.table(DEVICE_AUTHORIZATION_CHECKS).run(ctx, results)
    except OAuthError as exc:
        return error_response(exc)
    device_code = random_value()
    device = _new_device(provider, ctx, device_code)
    user_code = spelled(device.user_code)
    verification = f"{provider.issuer}/device"
    provider.flows.record(
        device.flow_id,
        "device_authorization",
        (CLIENT, AUTHORIZATION_SERVER, "back"),
        "The device asks for a user code (RFC 8628 §3.1).",
        {"client_id": device.client_id, "scope": device.scope, "user_code": user_code},
        results,
    )
    return json_response(
        {
            "device_code": device_code,
            "user_code": user_code,
            "verification_uri": verification,
            "verification_uri_complete": f"{verification}?user_code={user_code}",
            "expires_in": DEVICE_CODE_TTL,
            "interval": POLL_INTERVAL,
        }
    )


def normalized(user_code: str) -> str:
    """What the user typed, as stored: upper case, without the dash or spaces (§6.1)."""
    return "".join(c for c in user_code.upper() if c.isalnum())[:32]


def device_page(provider: Provider, request: Request) -> Response:
    """RFC 8628 §3.3: the user enters the code (or follows verification_uri_complete); then
    the usual login and a consent that is always asked (§5.4: remote phishing)."""
    typed = request.query.get("user_code")
    if typed is None:
        return provider.pages.render("device.html", done="", user_code="")
    now = provider.clock.now()
    device = provider.store.device_by_user_code(normalized(typed), now)
    if device is None:
        return provider.page_error(
            "This code is not valid",
            "Check the code your device shows; it may have expired (10 minutes). "
            "Then start again on the device.",
        )
    browser = provider.browser(request)
    pending = AuthRequest(
        id=secrets.token_urlsafe(24),
        browser_hash=browser.hash,
        client_id=device.client_id,
        redirect_uri=DEVICE_REDIRECT,
        scope=device.scope,
        state=device.user_code,
        nonce=None,
        code_challenge=None,
        code_challenge_method=None,
        prompt="consent",
        max_age=None,
        flow_id=device.flow_id,
        expires_at=min(device.expires_at, now + provider.settings.auth_request_ttl),
    )
    if not provider.save_pending(pending):
        return provider.page_error("Too many sign-ins in progress", "Try again in a minute.", 503)
    response = proceed(provider, pending, browser, posted=False)
    response.headers.extend(provider.browser_cookies(browser))
    return response

"""The browser side of RFC 8628 device authorization: what happens when the user, signed in
on the sandbox's own pages, approves or denies a device's request.

The user-code page (`endpoints/device.py`) turns a user code into a pending authorization
request like any other, so login and consent are the same pages; the request's
`redirect_uri` is the device grant's URN and its `state` the user code. Where a browser
request would get its code, a device request is marked approved (or denied) instead, and
the device gets its tokens at its next poll (RFC 8628 §3.4, §3.5).
"""

from __future__ import annotations

from valetkey.oauth.client_metadata import DEVICE_CODE
from valetkey.oauth.vocabulary import AUTHORIZATION_SERVER, BROWSER
from valetkey.provider.core import Browser, Provider
from valetkey.provider.http import Response
from valetkey.provider.store.records import AuthRequest

DEVICE_REDIRECT = DEVICE_CODE  # the redirect_uri of a pending device request: nowhere


def is_device(pending: AuthRequest) -> bool:
    return pending.redirect_uri == DEVICE_REDIRECT


def spelled(user_code: str) -> str:
    """A user code as shown: BCDF-GHJK (RFC 8628 §6.1)."""
    return f"{user_code[:4]}-{user_code[4:]}"


def decide(provider: Provider, pending: AuthRequest, browser: Browser, approved: bool) -> Response:
    """Record the user's decision on the device request and say what happens next."""
    assert browser.session is not None and pending.state is not None
    provider.store.finish_auth_request(pending.id, None)
    status = "approved" if approved else "denied"
    session = browser.session
    decided = provider.store.decide_device_code(
        pending.state, status, session.user_id, session.auth_time
    )
    provider.flows.record(
        pending.flow_id,
        "device_decision",
        (BROWSER, AUTHORIZATION_SERVER, "front"),
        f"The user {status} the device's request (user code {spelled(pending.state)}).",
        {"user_code": spelled(pending.state), "decision": status},
        user_id=session.user_id,
    )
    if not decided:
        return provider.page_error(
            "This device code is no longer valid",
            "It expired or was already used. Start again on your device.",
        )
    message = (
        "Done. Go back to your device: it is signed in."
        if approved
        else "Access denied. The device gets nothing."
    )
    return provider.pages.render("device.html", done=message, user_code="")

"""The consent page: the user sees what the app asks for in plain words, and allows or denies."""

from __future__ import annotations

from valetkey.oauth.scope import Scope
from valetkey.oauth.vocabulary import AUTHORIZATION_SERVER, BROWSER
from valetkey.provider import device_flow
from valetkey.provider.checks import Table, csrf, oidc
from valetkey.provider.core import Provider
from valetkey.provider.device_flow import is_device, spelled
from valetkey.provider.endpoints.authorize import error_redirect, issue_code
from valetkey.provider.endpoints.login import _expired, _pending
from valetkey.provider.errors import AccessDenied, OAuthError
from valetkey.provider.http import Request, Response, redirect
from valetkey.provider.response_modes import ResponseKind
from valetkey.provider.store.records import AuthRequest

PURPOSE = "consent"
CONSENT_FORM = Table.of(
    "consent form", [oidc.consent_by_signed_in_user, csrf.form_from_this_session]
)


def _returning_to(pending: AuthRequest) -> str:
    """Where the answer goes: the redirect URI's host, or the device (RFC 8628 §5.4)."""
    if is_device(pending):
        return f"a device showing the code {spelled(pending.state or '')}"
    return pending.redirect_uri.split("/")[2] if "//" in pending.redirect_uri else ""


def _resources(provider: Provider, pending: AuthRequest) -> list[tuple[str, str]]:
    """The resources the app asks to reach (RFC 8707), as (name, URI), for the user to see."""
    named = []
    for uri in pending.resources.split():
        resource = provider.store.resource(uri)
        named.append((resource.name if resource else uri, uri))
    return named


def consent_page(provider: Provider, request: Request) -> Response:
    browser = provider.browser(request)
    pending = _pending(provider, request.query.get("request"), browser)
    if pending is None:
        return _expired(provider)
    if browser.session is None:
        return redirect(provider.path(f"/login?request={pending.id}"), 302)
    client = provider.store.client(pending.client_id)
    user = provider.store.user_by_id(browser.session.user_id)
    return provider.pages.render(
        "consent.html",
        csrf=provider.csrf_token(browser, PURPOSE, pending.id),
        request_id=pending.id,
        client_name=client.name if client else pending.client_id,
        client_id=pending.client_id,
        registered_itself=bool(client and client.registered_itself),
        origin=client.origin if client else "",
        redirect_host=_returning_to(pending),
        username=user.username if user else "",
        scopes=list(Scope.lenient(pending.scope)),
        resources=_resources(provider, pending),
    )


def consent_submit(provider: Provider, request: Request) -> Response:
    browser = provider.browser(request)
    request_id = request.form.get("request") or ""
    # the token names this login session and this request: one planted by another site
    # on the same host (a browser id, a request of its own) cannot be used here
    try:
        CONSENT_FORM.run(provider.form_context(browser, request.form, PURPOSE, request_id), [])
    except OAuthError:
        return provider.page_error(
            "This form has expired",
            "The consent form was not sent from this browser session. Reload it and try again.",
            403,
        )
    pending = _pending(provider, request_id, browser)
    if pending is None:
        return _expired(provider)
    decision = request.form.get("decision")
    provider.flows.record(
        pending.flow_id,
        "consent",
        (BROWSER, AUTHORIZATION_SERVER, "front"),
        f"The user {'allows' if decision == 'allow' else 'denies'} the app's request.",
        {"decision": decision, "scope": pending.scope},
    )
    if decision != "allow" and is_device(pending):
        return device_flow.decide(provider, pending, browser, approved=False)
    if decision != "allow":
        provider.store.finish_auth_request(pending.id, None)
        return error_redirect(
            provider,
            pending.flow_id,
            pending.redirect_uri,
            pending.state,
            AccessDenied("the user denied the request"),
            status=303,
            mode=ResponseKind.from_stored(pending.response_type).mode,
        )
    assert browser.session is not None
    user_id = browser.session.user_id
    granted = provider.store.consent(user_id, pending.client_id) or ""
    scope = str((Scope.lenient(granted) | Scope.lenient(pending.scope)).sorted())
    provider.store.save_consent(user_id, pending.client_id, scope, provider.clock.now())
    return issue_code(provider, pending, browser, 303)

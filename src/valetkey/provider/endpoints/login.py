"""The login page: the only place the password is ever typed, and only ever sent here."""

from __future__ import annotations

import contextlib

from valetkey.oauth.scope import Scope
from valetkey.oauth.vocabulary import AUTHORIZATION_SERVER, BROWSER
from valetkey.provider.checks import CheckResult, Table, csrf, oidc
from valetkey.provider.core import Browser, Provider
from valetkey.provider.endpoints.authorize import proceed
from valetkey.provider.errors import OAuthError
from valetkey.provider.http import Request, Response, redirect
from valetkey.provider.store.records import AuthRequest
from valetkey.provider.usernames import display_form

PURPOSE = "login"
LOGIN_FORM = Table.of("login form", [csrf.form_from_this_session])
LOGIN = Table.of("login: the password", [oidc.user_authenticated])
FAILED_USERNAME = "(not recorded: the sign-in failed)"


def _pending(provider: Provider, request_id: str | None, browser: Browser) -> AuthRequest | None:
    if not request_id:
        return None
    pending = provider.store.auth_request(request_id, provider.clock.now())
    if pending is None or pending.browser_hash != browser.hash:
        return None
    return pending


def _expired(provider: Provider) -> Response:
    return provider.page_error(
        "This sign-in request has expired",
        "Go back to the app and start signing in again. Nothing was shared.",
    )


def login_page(
    provider: Provider, request: Request, error: str = "", status: int = 200
) -> Response:
    browser = provider.browser(request)
    request_id = request.query.get("request") or request.form.get("request")
    pending = _pending(provider, request_id, browser)
    if request_id and pending is None:
        return _expired(provider)
    client = provider.store.client(pending.client_id) if pending else None
    response = provider.pages.render(
        "login.html",
        status=status,
        csrf=provider.csrf_token(browser, PURPOSE, pending.id if pending else ""),
        request_id=pending.id if pending else "",
        client_name=client.name if client else "",
        scopes=list(Scope.lenient(pending.scope)) if pending else [],
        username=request.form.get("username") or "",
        error=error,
    )
    response.headers.extend(provider.browser_cookies(browser))
    return response


async def login_submit(provider: Provider, request: Request) -> Response:
    browser = provider.browser(request)
    request_id = request.form.get("request")
    ctx = provider.form_context(browser, request.form, PURPOSE, request_id or "")
    try:
        LOGIN_FORM.run(ctx, [])
    except OAuthError:
        return provider.page_error(
            "This form has expired",
            "The sign-in form was not sent from this browser session. Reload it and try again.",
            403,
        )
    pending = _pending(provider, request_id, browser)
    if request_id and pending is None:
        return _expired(provider)
    username = display_form(request.form.get("username") or "")
    password = request.form.get("password") or ""
    user = provider.store.user_by_name(username)
    stored = user.password_hash if user else None
    throttled = (f"user:{username.casefold()}", f"peer:{request.peer}")
    ctx.password_ok = await provider.verify_password(stored, password, throttled)
    results: list[CheckResult] = []
    with contextlib.suppress(OAuthError):  # recorded below; the page says so
        LOGIN.run(ctx, results)
    ok = ctx.password_ok and user is not None
    if pending is not None:
        _record_login(provider, pending, username, results, user.id if user and ok else None)
    if not ok or user is None:
        return login_page(provider, request, "Wrong username or password.", 401)
    if provider.passwords.needs_rehash(user.password_hash):
        provider.store.set_password_hash(user.id, provider.passwords.hash(password))
    headers, fresh = provider.start_session(browser, user.id)
    if pending is None:
        response = redirect(provider.path("/account"), 303)
    elif not provider.store.rebind_auth_request(pending.id, browser.hash, fresh.hash):
        response = _expired(provider)  # finished meanwhile (another tab)
    else:
        response = proceed(provider, pending, fresh, posted=True, just_logged_in=True)
    response.headers.extend(headers)
    return response


def _record_login(
    provider: Provider,
    pending: AuthRequest,
    username: str,
    results: list[CheckResult],
    user_id: int | None,
) -> None:
    ok = all(result.passed for result in results)
    provider.flows.record(
        pending.flow_id,
        "login",
        (BROWSER, AUTHORIZATION_SERVER, "front"),
        "The user types the password into the authorization server's own login page.",
        # a failed sign-in's "username" may well be the password typed in the wrong field
        {"username": username if ok else FAILED_USERNAME, "password": "x"},
        results,
        carried_password=True,
        user_id=user_id,
    )

"""The account page: which apps hold a valet key, for what, and a button to take it back.

Revoking forgets the consent and revokes every grant of that app for this user, so its
access and refresh tokens stop working at once (the "revocable" half of the valet key).
"""

from __future__ import annotations

from valetkey.provider.checks import Table, csrf
from valetkey.provider.core import Provider
from valetkey.provider.errors import OAuthError
from valetkey.provider.http import Request, Response, redirect

PURPOSE = "account"
ACCOUNT_FORM = Table.of("account form", [csrf.form_from_this_session])


def account_page(provider: Provider, request: Request, notice: str = "") -> Response:
    browser = provider.browser(request)
    if browser.session is None:
        response = redirect(provider.path("/login"), 302)
        response.headers.extend(provider.browser_cookies(browser))
        return response
    user = provider.store.user_by_id(browser.session.user_id)
    if user is None:
        return redirect(provider.path("/login"), 302)
    return provider.pages.render(
        "account.html",
        csrf=provider.csrf_token(browser, PURPOSE),
        logout_csrf=provider.csrf_token(browser, "logout"),
        username=user.username,
        name=str(user.claims.get("name", user.username)),
        consents=provider.store.consents(user.id),
        notice=notice,
    )


def account_revoke(provider: Provider, request: Request) -> Response:
    browser = provider.browser(request)
    try:
        ACCOUNT_FORM.run(provider.form_context(browser, request.form, PURPOSE), [])
    except OAuthError:
        return provider.page_error(
            "This form has expired", "Reload the account page and try again.", 403
        )
    if browser.session is None:
        return redirect(provider.path("/login"), 303)
    client_id = request.form.get("client_id") or ""
    provider.store.withdraw_consent(browser.session.user_id, client_id, provider.clock.now())
    return redirect(provider.path("/account?revoked=1"), 303)

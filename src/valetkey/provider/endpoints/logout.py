"""RP-initiated logout (OpenID Connect RP-Initiated Logout 1.0).

The session ends at once only with an `id_token_hint` that is an ID token this issuer signed
for a registered client, about the user of the current session (§2, §4: the hint is a hint,
and an access token or another user's ID token is not one); otherwise the user confirms with
a form (CSRF-protected, same-origin only), so a link on another site cannot log anyone out.
The browser goes back only to a `post_logout_redirect_uri` registered for the hint's client.
"""

from __future__ import annotations

from dataclasses import dataclass

from joserfc import jws
from joserfc.errors import JoseError

from valetkey.oauth import strict_json
from valetkey.oauth.jose import unverified_header
from valetkey.provider.checks import Table, csrf
from valetkey.provider.core import Browser, Provider
from valetkey.provider.errors import OAuthError
from valetkey.provider.http import Params, Request, Response, add_query, redirect
from valetkey.provider.keys import key_set

PURPOSE = "logout"
LOGOUT_FORM = Table.of("logout form", [csrf.form_from_this_session])


@dataclass(frozen=True)
class IdTokenHint:
    client_id: str
    sub: str


def _id_token_hint(provider: Provider, hint: str | None) -> IdTokenHint | None:
    """The client (aud) and user (sub) of an ID token we signed, or None. Expiry does not
    matter here (RP-Initiated Logout §2)."""
    if not hint:
        return None
    try:
        if unverified_header(hint).get("typ") == "at+jwt":  # an access token (RFC 9068 §2.1)
            return None
        compact = jws.deserialize_compact(
            hint, key_set(provider.keys), algorithms=["RS256", "ES256"]
        )
        claims = strict_json.loads_object(compact.payload)
    except (JoseError, ValueError):
        return None
    aud, sub = claims.get("aud"), claims.get("sub")
    if claims.get("iss") != provider.issuer or not isinstance(sub, str) or "scope" in claims:
        return None  # OIDC Core §2: ID tokens carry no scope; access tokens do
    if not isinstance(aud, str) or provider.store.client(aud) is None:
        return None
    return IdTokenHint(aud, sub)


def _hint_matches_session(provider: Provider, browser: Browser, hint: IdTokenHint) -> bool:
    """The hint is about the signed-in user, or nobody is signed in (nothing to end)."""
    if browser.session is None:
        return True
    user = provider.store.user_by_id(browser.session.user_id)
    return user is not None and user.sub == hint.sub


def _target(provider: Provider, params: Params, client_id: str | None) -> str | None:
    uri = params.get("post_logout_redirect_uri")
    if uri is None or client_id is None or not uri.isascii():
        return None
    client = provider.store.client(client_id)
    if client is None or uri not in client.post_logout_redirect_uris:
        return None
    return add_query(uri, {"state": params.get("state")})


def _confirmation(provider: Provider, browser: Browser) -> Response:
    response = provider.pages.render(
        "logout.html",
        csrf=provider.csrf_token(browser, PURPOSE),
        signed_in=browser.session is not None,
    )
    response.headers.extend(provider.browser_cookies(browser))
    return response


def logout(provider: Provider, request: Request) -> Response:
    params = request.query if request.method == "GET" else request.form
    browser = provider.browser(request)
    hint = _id_token_hint(provider, params.get("id_token_hint"))
    if hint is not None and not _hint_matches_session(provider, browser, hint):
        hint = None  # another user's ID token: ask, and never redirect for it
    if request.method == "POST":
        try:
            LOGOUT_FORM.run(provider.form_context(browser, request.form, PURPOSE), [])
        except OAuthError:
            return provider.page_error("This form has expired", "Reload and try again.", 403)
    elif hint is None:
        return _confirmation(provider, browser)
    cleared = provider.end_session(browser)
    target = _target(provider, params, hint.client_id if hint else None)
    if target is not None:
        return redirect(target, 303 if request.method == "POST" else 302, [cleared])
    response = provider.pages.render("signed_out.html")
    response.headers.append(cleared)
    return response

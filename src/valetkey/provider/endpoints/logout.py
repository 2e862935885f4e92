"""RP-initiated logout (OpenID Connect RP-Initiated Logout 1.0).

With a valid `id_token_hint` the session ends at once; without one the user confirms with a
form (CSRF-protected), so a link on another site cannot log anyone out. The browser goes
back only to a `post_logout_redirect_uri` registered for the client the hint names.
"""

from __future__ import annotations

import json

from joserfc import jws
from joserfc.errors import JoseError

from valetkey.provider.core import Provider
from valetkey.provider.http import Params, Request, Response, add_query, redirect
from valetkey.provider.keys import key_set

PURPOSE = "logout"


def _hint_client(provider: Provider, hint: str | None) -> str | None:
    """The client (aud) of an ID token we signed, or None. Expiry does not matter here."""
    if not hint:
        return None
    try:
        compact = jws.deserialize_compact(
            hint, key_set(provider.keys), algorithms=["RS256", "ES256"]
        )
        claims = json.loads(compact.payload)
    except (JoseError, ValueError):
        return None
    if not isinstance(claims, dict) or claims.get("iss") != provider.issuer:
        return None
    aud = claims.get("aud")
    return aud if isinstance(aud, str) else None


def _target(provider: Provider, params: Params, client_id: str | None) -> str | None:
    uri = params.get("post_logout_redirect_uri")
    if uri is None or client_id is None:
        return None
    client = provider.store.client(client_id)
    if client is None or uri not in client.post_logout_redirect_uris:
        return None
    return add_query(uri, {"state": params.get("state")})


def logout(provider: Provider, request: Request) -> Response:
    params = request.query if request.method == "GET" else request.form
    browser = provider.browser(request)
    client_id = _hint_client(provider, params.get("id_token_hint"))
    confirmed = request.method == "POST" and provider.csrf_ok(
        browser, PURPOSE, request.form.get("csrf")
    )
    if client_id is None and not confirmed:
        if request.method == "POST":
            return provider.page_error("This form has expired", "Reload and try again.", 403)
        response = provider.pages.render(
            "logout.html",
            csrf=provider.csrf_token(browser, PURPOSE),
            signed_in=browser.session is not None,
        )
        response.headers.extend(provider.browser_cookies(browser))
        return response
    cleared = provider.end_session(browser)
    target = _target(provider, params, client_id)
    if target is not None:
        return redirect(target, 303 if request.method == "POST" else 302, [cleared])
    response = provider.pages.render("signed_out.html")
    response.headers.append(cleared)
    return response

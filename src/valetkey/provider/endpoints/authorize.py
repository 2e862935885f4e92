"""The authorization endpoint (RFC 6749 §4.1.1, OIDC Core §3.1.2) and what follows it:
deciding whether the user must log in or consent, and issuing the code."""

from __future__ import annotations

import contextlib
import secrets
from urllib.parse import urlencode

from valetkey.oauth.scope import Scope
from valetkey.oauth.vocabulary import AUTHORIZATION_SERVER, BROWSER, CLIENT
from valetkey.provider.checks import CheckResult, Table, oidc, rfc6749, rfc7636
from valetkey.provider.checks.context import AuthorizeContext, ResponseContext
from valetkey.provider.checks.rfc9207 import RESPONSE_CHECKS
from valetkey.provider.core import Browser, Provider
from valetkey.provider.errors import (
    ConsentRequired,
    LoginRequired,
    OAuthError,
)
from valetkey.provider.grants.issuance import issue, new_grant
from valetkey.provider.http import Params, Request, Response, add_query, redirect
from valetkey.provider.lab import LabSwitch
from valetkey.provider.store.records import AuthRequest, Code
from valetkey.provider.tokens import digest, random_value

# before the client and redirect URI are trusted: errors are pages (AS-09, AS-10)
PAGE_CHECKS = Table.of(
    "authorize: before the redirect URI is trusted",
    [
        rfc6749.client_id_known,
        rfc6749.redirect_uri_exact,
        rfc6749.redirect_uri_safe_scheme,
    ],
)
# after: errors go back to the redirect URI with state and iss
REDIRECT_CHECKS = Table.of(
    "authorize",
    [
        rfc6749.parameters_not_repeated,
        rfc6749.response_type_present,
        rfc6749.response_type_code,
        rfc6749.client_may_use_response_type,
        rfc6749.response_mode_query,
        oidc.no_request_objects,
        rfc6749.scope_registered,
        rfc7636.challenge_method_s256,
        rfc7636.challenge_required,
        rfc7636.challenge_well_formed,
        oidc.prompt_valid,
        oidc.max_age_valid,
    ],
    given=("client", "redirect_uri"),
)

AUTHORIZE_PARAMS = (
    "client_id",
    "redirect_uri",
    "response_type",
    "scope",
    "state",
    "nonce",
    "code_challenge",
    "code_challenge_method",
    "prompt",
    "max_age",
    "response_mode",
)


def load(provider: Provider, params: Params) -> AuthorizeContext:
    """What the checks read from the store: the client the one client_id names."""
    ctx = AuthorizeContext(params, provider.clock.now())
    named = [value for name, value in params.pairs if name == "client_id" and value]
    if len(named) == 1:
        ctx.named_client = provider.store.client(named[0])
    return ctx


def authorize(provider: Provider, request: Request) -> Response:
    params = request.query if request.method == "GET" else request.form
    ctx = load(provider, params)
    results: list[CheckResult] = []
    client_id = params.get("client_id") or "(none)"
    flow_id = provider.flows.start(client_id)
    try:
        provider.table(PAGE_CHECKS).run(ctx, results)
    except OAuthError as exc:
        _record_request(provider, flow_id, request, results, failed=True)
        target = params.get("redirect_uri")
        if provider.lab(LabSwitch.OPEN_REDIRECT_ON_ERROR) and target:  # LAB: open redirector
            return redirect(
                add_query(target, {"error": exc.error, "state": params.get("state")}), 302
            )
        return provider.page_error("This sign-in link is not valid", exc.description)
    assert ctx.client is not None and ctx.redirect_uri is not None
    state = params.get("state")
    try:
        provider.table(REDIRECT_CHECKS).run(ctx, results)
    except OAuthError as exc:
        _record_request(provider, flow_id, request, results, failed=True)
        return error_redirect(provider, flow_id, ctx.redirect_uri, state, exc)
    _record_request(provider, flow_id, request, results, failed=False)
    browser = provider.browser(request)
    pending = AuthRequest(
        id=secrets.token_urlsafe(24),
        browser_hash=browser.hash,
        client_id=ctx.client.client_id,
        redirect_uri=ctx.redirect_uri,
        scope=str(ctx.scopes),
        state=state,
        nonce=params.get("nonce"),
        code_challenge=params.get("code_challenge"),
        code_challenge_method=params.get("code_challenge_method"),
        prompt=" ".join(sorted(ctx.prompt)) or None,
        max_age=ctx.max_age,
        flow_id=flow_id,
        expires_at=provider.clock.now() + provider.settings.auth_request_ttl,
        response_type=params.get("response_type") or "code",
    )
    if not provider.save_pending(pending):
        response = provider.page_error(
            "Too many sign-ins in progress",
            "The sandbox holds as many unfinished sign-ins as it keeps. Try again in a minute.",
            503,
        )
        response.headers.append(("retry-after", "60"))
        return response
    response = proceed(provider, pending, browser, posted=request.method == "POST")
    response.headers.extend(provider.browser_cookies(browser))
    return response


def _record_request(
    provider: Provider, flow_id: str, request: Request, results: list[CheckResult], failed: bool
) -> None:
    params = request.query if request.method == "GET" else request.form
    provider.flows.record(
        flow_id,
        "authorization_request",
        (BROWSER, AUTHORIZATION_SERVER, "front"),
        "The browser is sent to the authorization endpoint with the app's request.",
        {name: params.get(name) for name in AUTHORIZE_PARAMS},
        results,
        outcome="failed" if failed else None,
    )


def proceed(
    provider: Provider,
    pending: AuthRequest,
    browser: Browser,
    *,
    posted: bool,
    just_logged_in: bool = False,
) -> Response:
    """Send the browser to login, to consent, or back to the client with a code."""
    prompts = set((pending.prompt or "").split())
    status = 303 if posted else 302  # AS-35: never 307 after a POST (RFC 9700 §4.12)
    if not _authenticated_enough(provider, pending, browser, prompts, just_logged_in):
        if "none" in prompts:
            return error_redirect(
                provider,
                pending.flow_id,
                pending.redirect_uri,
                pending.state,
                LoginRequired("the user is not logged in"),
            )
        return redirect(provider.path(f"/login?request={pending.id}"), status)
    assert browser.session is not None
    granted = provider.store.consent(browser.session.user_id, pending.client_id)
    covered = granted is not None and Scope.lenient(pending.scope) <= Scope.lenient(granted)
    # OIDC Core §3.1.2.1: prompt=consent asks every time; only the consent form (with its
    # CSRF token) says the user consented, never a POST to /authorize or the login form
    if not covered or "consent" in prompts:
        if "none" in prompts:
            return error_redirect(
                provider,
                pending.flow_id,
                pending.redirect_uri,
                pending.state,
                ConsentRequired("the user has not consented to this app"),
            )
        return redirect(provider.path(f"/consent?request={pending.id}"), status)
    return issue_code(provider, pending, browser, status)


def _authenticated_enough(
    provider: Provider,
    pending: AuthRequest,
    browser: Browser,
    prompts: set[str],
    just_logged_in: bool,
) -> bool:
    if browser.session is None:
        return False
    if just_logged_in:
        return True
    if "login" in prompts:
        return False
    if pending.max_age is not None:
        return provider.clock.now() - browser.session.auth_time <= pending.max_age
    return True


def _iss(provider: Provider) -> str | None:
    """RFC 9207 §2: the issuer, in every authorization response (not with LAB no-iss)."""
    return None if provider.lab(LabSwitch.NO_ISS) else provider.issuer


def _code_value(provider: Provider) -> str:
    if provider.lab(LabSwitch.WEAK_CODES):  # LAB: six digits, about 20 bits
        return "".join(secrets.choice("0123456789") for _ in range(6))
    return random_value()


def issue_code(provider: Provider, pending: AuthRequest, browser: Browser, status: int) -> Response:
    assert browser.session is not None
    if pending.response_type == "token":
        return implicit_response(provider, pending, browser, status)
    value = _code_value(provider)
    code = Code(
        code_hash=digest(value),
        client_id=pending.client_id,
        user_id=browser.session.user_id,
        redirect_uri=pending.redirect_uri,
        scope=pending.scope,
        nonce=pending.nonce,
        code_challenge=pending.code_challenge,
        code_challenge_method=pending.code_challenge_method,
        auth_time=browser.session.auth_time,
        flow_id=pending.flow_id,
        expires_at=provider.clock.now() + provider.settings.code_ttl,
        used_at=None,
        grant_id=None,
    )
    if not provider.store.finish_auth_request(pending.id, code):
        return provider.page_error(
            "This sign-in request is already finished",
            "Go back to the app and start signing in again.",
        )
    params = {"code": value, "state": pending.state, "iss": _iss(provider)}
    if provider.probe is not None:  # LAB probe-mode: a forged authorization response
        how = provider.probe.take(provider.probe.authorization_forgery, pending.client_id)
        if how == "no-iss":
            params["iss"] = None
        elif how == "wrong-iss":
            params["iss"] = "https://evil.example"
    provider.flows.record(
        pending.flow_id,
        "authorization_response",
        (AUTHORIZATION_SERVER, CLIENT, "front"),
        "The browser is redirected back to the app with a short-lived code.",
        params,
        response_results(provider, params),
        user_id=browser.session.user_id,
    )
    return redirect(add_query(pending.redirect_uri, params), status)


def response_results(provider: Provider, params: dict[str, str | None]) -> list[CheckResult]:
    """The response table's results for an authorization response about to leave."""
    results: list[CheckResult] = []
    with contextlib.suppress(OAuthError):  # a failure is recorded, not raised: it is ours
        RESPONSE_CHECKS.run(ResponseContext(params, provider.issuer), results)
    return results


def error_redirect(
    provider: Provider,
    flow_id: str,
    redirect_uri: str,
    state: str | None,
    error: OAuthError,
    status: int = 302,
) -> Response:
    """RFC 6749 §4.1.2.1: the error goes back to the (validated) redirect URI."""
    params = {
        "error": error.error,
        "error_description": error.description,
        "state": state,
        "iss": _iss(provider),  # RFC 9207 §2: in error responses too
    }
    provider.flows.record(
        flow_id,
        "authorization_response",
        (AUTHORIZATION_SERVER, CLIENT, "front"),
        f"The browser is redirected back to the app with the error {error.error}.",
        params,
        outcome="failed",
    )
    return redirect(add_query(redirect_uri, params), status)


def implicit_response(
    provider: Provider, pending: AuthRequest, browser: Browser, status: int
) -> Response:
    """LAB implicit: the access token in the redirect's fragment (RFC 6749 §4.2.2), the very
    thing RFC 9700 §2.1.2 tells clients not to use."""
    assert browser.session is not None
    client = provider.store.client(pending.client_id)
    user = provider.store.user_by_id(browser.session.user_id)
    if client is None or user is None or not provider.store.finish_auth_request(pending.id, None):
        return provider.page_error(
            "This sign-in request is already finished",
            "Go back to the app and start signing in again.",
        )
    grant = new_grant(client, user, pending.scope, pending.flow_id, provider.clock.now())
    issued = issue(provider, client, user, pending.scope, grant.id, refresh=False)
    provider.store.issue(grant, issued.tokens)
    fragment = {
        "access_token": issued.body["access_token"],
        "token_type": "Bearer",
        "expires_in": str(issued.body["expires_in"]),
        "scope": pending.scope,
        "state": pending.state,
        "iss": _iss(provider),
    }
    clean = {k: v for k, v in fragment.items() if v is not None}
    return redirect(f"{pending.redirect_uri}#{urlencode(clean)}", status)

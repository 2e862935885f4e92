"""The authorization endpoint (RFC 6749 §4.1.1, OIDC Core §3.1.2) and what follows it:
deciding whether the user must log in or consent, and issuing the code."""

from __future__ import annotations

import contextlib
import secrets
from typing import Any

from valetkey.oauth.scope import Scope
from valetkey.oauth.vocabulary import AUTHORIZATION_SERVER, BROWSER, CLIENT
from valetkey.provider import device_flow
from valetkey.provider.checks import (
    AuthorizeContext,
    CheckResult,
    ResponseContext,
    Table,
    oidc,
    rfc6749,
    rfc7636,
    rfc8707,
)
from valetkey.provider.checks.client_id_metadata_document import DocumentContext
from valetkey.provider.checks.rfc6749 import REPEATABLE
from valetkey.provider.checks.rfc9207 import RESPONSE_CHECKS
from valetkey.provider.core import Browser, Provider
from valetkey.provider.device_flow import is_device
from valetkey.provider.document_clients import document_client, load_document
from valetkey.provider.errors import (
    ConsentRequired,
    LoginRequired,
    OAuthError,
    PageError,
)
from valetkey.provider.grants import Audience, id_token, issue, new_grant, user_claims
from valetkey.provider.http import Params, Request, Response, add_query, redirect
from valetkey.provider.lab import LabSwitch
from valetkey.provider.probe_mode import forge_token_response
from valetkey.provider.response_modes import FORM_POST, QUERY, ResponseKind, respond
from valetkey.provider.store.records import AuthRequest, Client, Code, User
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
        rfc6749.response_mode_query,  # right after: every later error travels in this mode
        rfc6749.client_may_use_response_type,
        oidc.no_request_objects,
        rfc6749.scope_registered,
        rfc8707.resources_registered,
        rfc8707.scopes_served_by_resources,
        oidc.openid_scope_for_id_token,
        oidc.nonce_with_front_channel_id_token,
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
    "resource",
)


def load(provider: Provider, params: Params) -> tuple[AuthorizeContext, DocumentContext | None]:
    """What the checks read: the client the one client_id names, from the store, or, when
    the client_id is a URL, the metadata document fetched from it (CIMD); and the registered
    resources the `resource` values name (RFC 8707)."""
    ctx = AuthorizeContext(params, provider.clock.now())
    named = params.values("client_id")
    document = None
    if len(named) == 1:
        document = load_document(provider, named[0])
        if document is None:
            ctx.named_client = provider.store.client(named[0])
    if params.get("resource") is not None:
        ctx.named_resources = provider.named_resources(params)
    return ctx, document


def _page_problem(exc: OAuthError) -> str:
    """A refusal before the redirect URI is trusted, as the error page says it."""
    if isinstance(exc, PageError):
        return exc.description
    return f"The app's client metadata document cannot be used ({exc.error}): {exc.description}"


def authorize(provider: Provider, request: Request) -> Response:
    params = request.query if request.method == "GET" else request.form
    ctx, document = load(provider, params)
    results: list[CheckResult] = []
    client_id = params.get("client_id") or "(none)"
    flow_id = provider.flows.start(client_id)
    try:
        if document is not None:
            ctx.named_client = document_client(provider, document, results)
        provider.table(PAGE_CHECKS).run(ctx, results)
    except OAuthError as exc:
        _record_request(provider, flow_id, request, results, failed=True)
        target = params.get("redirect_uri")
        if provider.lab(LabSwitch.OPEN_REDIRECT_ON_ERROR) and target:  # LAB: open redirector
            return redirect(
                add_query(target, {"error": exc.error, "state": params.get("state")}), 302
            )
        return provider.page_error("This sign-in link is not valid", _page_problem(exc))
    assert ctx.client is not None and ctx.redirect_uri is not None
    state = params.get("state")
    try:
        provider.table(REDIRECT_CHECKS).run(ctx, results)
    except OAuthError as exc:
        _record_request(provider, flow_id, request, results, failed=True)
        return error_redirect(
            provider, flow_id, ctx.redirect_uri, state, exc, mode=ctx.response_mode
        )
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
        response_type=ResponseKind(ctx.response_types, ctx.response_mode).stored(),
        resources=" ".join(ctx.resources),
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
        params.summary(AUTHORIZE_PARAMS, REPEATABLE),
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
                mode=ResponseKind.from_stored(pending.response_type).mode,
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
                mode=ResponseKind.from_stored(pending.response_type).mode,
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
    if is_device(pending):  # RFC 8628: the device gets its tokens at its next poll
        return device_flow.decide(provider, pending, browser, approved=True)
    if not ResponseKind.from_stored(pending.response_type).returns_code:
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
        resources=pending.resources,
    )
    if not provider.store.finish_auth_request(pending.id, code):
        return provider.page_error(
            "This sign-in request is already finished",
            "Go back to the app and start signing in again.",
        )
    params = {"code": value, "state": pending.state, "iss": _iss(provider)}
    params = _forged_iss(provider, pending.client_id, params)  # LAB probe-mode
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
    *,
    mode: str = QUERY,
) -> Response:
    """RFC 6749 §4.1.2.1, §4.2.2.1: the error goes back to the (validated) redirect URI, in
    the response mode of the request (the query, unless LAB implicit)."""
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
    return respond(provider.pages, redirect_uri, params, mode, status)


def implicit_response(
    provider: Provider, pending: AuthRequest, browser: Browser, status: int
) -> Response:
    """LAB implicit: tokens straight from the authorization endpoint, the very thing RFC 9700
    §2.1.2 tells clients not to use. `token`: an access token (RFC 6749 §4.2.2); `id_token`
    and `id_token token`: an ID token with the request's nonce, and at_hash beside an
    access token (OIDC Core §3.2.2.5, §3.2.2.9, §3.2.2.10). In the fragment or by form_post."""
    assert browser.session is not None
    kind = ResponseKind.from_stored(pending.response_type)
    client = provider.store.client(pending.client_id)
    user = provider.store.user_by_id(browser.session.user_id)
    if client is None or user is None or not provider.store.finish_auth_request(pending.id, None):
        return provider.page_error(
            "This sign-in request is already finished",
            "Go back to the app and start signing in again.",
        )
    params = _front_channel_tokens(provider, client, user, pending, browser.session.auth_time)
    params.update(state=pending.state, iss=_iss(provider))
    params = _maybe_forged(provider, pending.client_id, params)
    how = (
        "posted to the app by a self-submitting form"
        if kind.mode == FORM_POST
        else ("in the URL fragment")
    )
    provider.flows.record(
        pending.flow_id,
        "authorization_response",
        (AUTHORIZATION_SERVER, CLIENT, "front"),
        f"LAB implicit: the browser carries the tokens back to the app, {how}.",
        params,
        response_results(provider, params),
        user_id=user.id,
    )
    return respond(provider.pages, pending.redirect_uri, params, kind.mode, status)


def _front_channel_tokens(
    provider: Provider, client: Client, user: User, pending: AuthRequest, auth_time: float
) -> dict[str, str | None]:
    """The access token (RFC 6749 §4.2.2) and/or ID token the response type asks for."""
    kind = ResponseKind.from_stored(pending.response_type)
    params: dict[str, str | None] = {}
    if "token" in kind.types:
        grant = new_grant(client, user, pending.scope, pending.flow_id, provider.clock.now())
        audience = Audience.of(None, pending.resources)  # RFC 8707 §2
        issued = issue(
            provider, client, user, pending.scope, grant.id, refresh=False, audience=audience
        )
        provider.store.issue(grant, issued.tokens)
        params["access_token"] = issued.body["access_token"]
        params["token_type"] = "Bearer"  # noqa: S105 (a token type, RFC 6750)
        params["expires_in"] = str(issued.body["expires_in"])
        params["scope"] = pending.scope
    if "id_token" in kind.types:
        access = params.get("access_token")
        params["id_token"] = _front_channel_id_token(
            provider, client, user, pending, access, auth_time
        )
    return params


def _front_channel_id_token(
    provider: Provider,
    client: Client,
    user: User,
    pending: AuthRequest,
    access: str | None,
    auth_time: float,
) -> str:
    """OIDC Core §5.4: with no access token, the scopes' claims go in the ID token itself."""
    assert pending.nonce is not None  # AS-32 refused the request without one
    scopes = Scope.lenient(pending.scope)
    claims: dict[str, Any] = user_claims(user, scopes) if access is None else {"sub": user.sub}
    claims["nonce"] = pending.nonce  # OIDC Core §3.2.2.10
    claims["auth_time"] = int(auth_time)
    now = provider.clock.now()
    queued = provider.admin.take_claims("user", user.username)
    return id_token(provider, client, {**claims, **queued}, now, access)


def _maybe_forged(
    provider: Provider, client_id: str, params: dict[str, str | None]
) -> dict[str, str | None]:
    """LAB probe-mode: the next response carrying tokens for this client, forged as the probe
    asked (the same ID-token forgeries as at the token endpoint), and a missing or wrong iss."""
    if provider.probe is None:
        return params
    how = provider.probe.take(provider.probe.token_forgery, client_id)
    if how is not None:
        params = dict(forge_token_response(params, how, provider.keys))
    return _forged_iss(provider, client_id, params)


def _forged_iss(
    provider: Provider, client_id: str, params: dict[str, str | None]
) -> dict[str, str | None]:
    """LAB probe-mode: an authorization response without iss, or with another issuer's."""
    if provider.probe is None:
        return params
    how = provider.probe.take(provider.probe.authorization_forgery, client_id)
    if how == "no-iss":
        return {**params, "iss": None}
    if how == "wrong-iss":
        return {**params, "iss": "https://evil.example"}
    return params

"""The token endpoint (RFC 6749 §3.2): load what the request names, run the checks, issue.

Sans-I/O in the middle: the loader reads the client the credentials name and the code or
refresh token presented; the tables (strict, or as the lab switches change them) judge the
request from that alone; then the grant claims and issues, and the checks' actions run. All
of it, with the flow records, is the request's one write transaction (see `app._handle`).
"""

from __future__ import annotations

from typing import Any

from valetkey.oauth.client_metadata import DEVICE_CODE
from valetkey.oauth.redaction import fingerprint
from valetkey.oauth.vocabulary import AUTHORIZATION_SERVER, CLIENT
from valetkey.provider.checks import CheckResult, Table, TokenContext, rfc6749, rfc9449
from valetkey.provider.checks.client_id_metadata_document import DocumentContext
from valetkey.provider.checks.rfc6749 import REPEATABLE, presented_credentials
from valetkey.provider.core import Provider
from valetkey.provider.document_clients import document_client, load_document
from valetkey.provider.errors import InvalidClient, OAuthError
from valetkey.provider.grants import GRANT_TYPES
from valetkey.provider.http import Request, Response, json_response
from valetkey.provider.probe_mode import forge_token_response
from valetkey.provider.tokens import digest

COMMON_CHECKS = Table.of(
    "token",
    [
        rfc6749.token_request_is_post,
        rfc6749.no_query_parameters,
        rfc6749.form_encoded,
        rfc6749.token_parameters_not_repeated,
        rfc6749.client_authenticated,
        rfc9449.dpop_proof_valid,
        rfc6749.grant_type_supported,
        rfc6749.client_may_use_grant,
    ],
    given=("credentials",),  # by `load`
)


TOKEN_PARAMS = (
    "grant_type",
    "code",
    "redirect_uri",
    "code_verifier",
    "refresh_token",
    "scope",
    "resource",
    "device_code",
)


def error_response(exc: OAuthError) -> Response:
    """RFC 6749 §5.2; invalid_client is 401 with a Basic challenge."""
    extra: list[tuple[str, str]] = []
    if isinstance(exc, InvalidClient):
        extra.append(("www-authenticate", 'Basic realm="valetkey", charset="UTF-8"'))
    if exc.status == 405:
        extra.append(("allow", "POST"))
    return json_response(exc.body(), exc.status, extra)


def load(provider: Provider, request: Request) -> tuple[TokenContext, DocumentContext | None]:
    """Everything the checks read from the store, read before they run; and the metadata
    document fetched when the client id is a URL (CIMD)."""
    ctx = TokenContext(request, provider.clock.now(), provider.dpop)
    store, form = provider.store, request.form
    named, document = form.get("client_id"), None
    if named is not None and named.startswith(("https://", "http://")):  # is_document_url
        ctx.credentials = presented_credentials(request)
        document = load_document(provider, named)
    else:
        provider.load_credentials(ctx)
    code = form.get("code")
    if code is not None and form.get("grant_type") == "authorization_code":
        ctx.presented_code = store.code(digest(code))
    refresh = form.get("refresh_token")
    if refresh is not None and form.get("grant_type") == "refresh_token":
        ctx.presented_refresh = store.token(digest(refresh))
    device = form.get("device_code")
    if device is not None and form.get("grant_type") == DEVICE_CODE:  # RFC 8628 §3.4
        ctx.presented_device = store.device_code(digest(device))
    if form.get("resource") is not None:  # RFC 8707
        ctx.named_resources = provider.named_resources(form)
    return ctx, document


def _document_client(
    provider: Provider, ctx: TokenContext, document: DocumentContext, results: list[CheckResult]
) -> None:
    """The client a metadata document describes, or invalid_client (RFC 6749 §5.2)."""
    try:
        ctx.named_client = document_client(provider, document, results)
    except OAuthError as exc:
        raise InvalidClient(
            f"the client metadata document cannot be used: {exc.description}"
        ) from None


def token(provider: Provider, request: Request) -> Response:
    ctx, document = load(provider, request)
    results: list[CheckResult] = []
    try:
        if document is not None:
            _document_client(provider, ctx, document, results)
        provider.table(COMMON_CHECKS).run(ctx, results)
        grant = GRANT_TYPES[ctx.grant_type]
        provider.table(grant.checks).run(ctx, results)
        issued = grant.redeem(provider, ctx)
        provider.store.issue(issued.new_grant, issued.tokens)
    except OAuthError as exc:
        provider.perform(ctx.actions)
        _record(provider, ctx, results, exc.error)
        _probe_log(provider, ctx, exc.status, exc.error)
        return error_response(exc)
    provider.perform(ctx.actions)
    _record(provider, ctx, results, None, issued.body)
    _probe_log(provider, ctx, 200, "", issued.body)
    provider.housekeeping()
    return json_response(_maybe_forged(provider, ctx, issued.body))


def _maybe_forged(provider: Provider, ctx: TokenContext, body: dict[str, Any]) -> dict[str, Any]:
    """LAB probe-mode: the next response for this client, forged as the probe asked."""
    probe = provider.probe
    if probe is None or ctx.client is None:
        return body
    how = probe.take(probe.token_forgery, ctx.client.client_id)
    return body if how is None else forge_token_response(body, how, provider.keys)


def _probe_log(
    provider: Provider,
    ctx: TokenContext,
    status: int,
    error: str,
    body: dict[str, Any] | None = None,
) -> None:
    probe = provider.probe
    if probe is None:
        return
    code = ctx.params.get("code")
    secret = ctx.credentials.secret if ctx.client and ctx.credentials else None
    probe.record(
        endpoint="token",
        status=status,
        error=error,
        grant_type=ctx.grant_type,
        client_id=ctx.client.client_id if ctx.client else ctx.params.get("client_id"),
        code=fingerprint(code) if code else None,
        code_verifier_sent=ctx.params.get("code_verifier") is not None,
        access_token=fingerprint(str(body["access_token"])) if body else None,
        refresh_token=fingerprint(str(body["refresh_token"]))
        if body and body.get("refresh_token")
        else None,
        client_secret=fingerprint(secret) if secret else None,  # for LC-18's search
    )


def _flow_id(provider: Provider, ctx: TokenContext) -> str | None:
    if ctx.code is not None:
        return ctx.code.flow_id
    if ctx.refresh is not None and ctx.refresh.grant_id is not None:
        grant = provider.store.grant(ctx.refresh.grant_id)
        return grant.flow_id if grant else None
    return None


def _record(
    provider: Provider,
    ctx: TokenContext,
    results: list[CheckResult],
    error: str | None,
    body: dict[str, Any] | None = None,
) -> None:
    flow_id = _flow_id(provider, ctx)
    if flow_id is None:
        return
    flows = provider.flows
    params = ctx.params.summary(TOKEN_PARAMS, REPEATABLE)
    params["client_auth"] = ctx.auth_method
    summary = "The app exchanges the code for tokens over the back channel."
    if ctx.grant_type == "refresh_token":
        summary = "The app uses its refresh token for new tokens over the back channel."
    flows.record(
        flow_id,
        "token_request",
        (CLIENT, AUTHORIZATION_SERVER, "back"),
        summary,
        params,
        results,
        outcome="failed" if error else None,
    )
    if error is not None:
        return
    assert body is not None
    sent = {k: str(v) for k, v in body.items()}
    flows.record(
        flow_id,
        "token_response",
        (AUTHORIZATION_SERVER, CLIENT, "back"),
        "The authorization server answers with tokens; the browser never sees them.",
        sent,
        outcome="completed",
    )

"""RFC 6749 (OAuth 2.0) checks for the authorization and token endpoints, with RFC 9700's
tightening where it applies. Each check names its catalogue id and clause, and what of the
context it needs and sets. Strict only: lab switches change these from `valetkey.provider.lab`."""

from __future__ import annotations

import base64
import binascii
from urllib.parse import unquote_plus

from valetkey.oauth.client_metadata import DEVICE_CODE
from valetkey.oauth.redirect_uris import redirect_uri_problem
from valetkey.oauth.scope import Scope, ScopeError
from valetkey.provider.checks import AuthorizeContext, Credentials, RevokeGrant, TokenContext, check
from valetkey.provider.errors import (
    InvalidClient,
    InvalidGrant,
    InvalidRequest,
    InvalidScope,
    MethodNotAllowed,
    OAuthError,
    PageError,
    UnauthorizedClient,
    UnsupportedGrantType,
    UnsupportedResponseType,
)
from valetkey.provider.http import Params, Request, value_limit
from valetkey.provider.response_modes import (
    CODE,
    FORM_POST,
    FRAGMENT,
    QUERY,
    default_mode,
    parse_response_type,
    spell,
)
from valetkey.provider.store.records import Client
from valetkey.provider.tokens import digest, same

# -- authorization endpoint: before the redirect URI is trusted, errors are pages --------------


@check("AS-09", "RFC 6749 §4.1.2.1", sets=("client",))
def client_id_known(ctx: AuthorizeContext) -> None:
    """The client_id names exactly one registered client.

    An unknown or repeated client_id is shown to the user as an error page; nothing is
    redirected, because there is no trusted redirect URI to send it to.
    """
    values = ctx.params.values("client_id")
    if len(values) != 1:
        raise PageError("The request must name the app (client_id) exactly once.")
    client = ctx.named_client  # loaded for the one client_id
    if client is None or client.client_id != values[0]:
        raise PageError("The app that sent you here (client_id) is not registered.")
    ctx.client = client


@check("AS-08", "RFC 6749 §3.1.2.3; RFC 9700 §4.1.3", needs=("client",), sets=("redirect_uri",))
def redirect_uri_exact(ctx: AuthorizeContext) -> None:
    """redirect_uri is present once and equals a registered URI, character for character.

    No prefix, pattern, case-folding or normalisation: RFC 9700 §4.1.3 requires exact
    string matching. A mismatch is an error page, never a redirect (AS-09, AS-10).
    """
    assert ctx.client is not None
    values = ctx.params.values("redirect_uri")
    if len(values) != 1:
        raise PageError("The request must carry the app's redirect_uri exactly once.")
    if values[0] not in ctx.client.redirect_uris:
        raise PageError(
            "The redirect_uri is not registered for this app, so you are not being sent back.",
            detail=f"unregistered redirect_uri {values[0][:200]!r}",
        )
    ctx.redirect_uri = values[0]


@check("AS-12", "RFC 9700 §2.6; RFC 8252 §7.3", needs=("redirect_uri",))
def redirect_uri_safe_scheme(ctx: AuthorizeContext) -> None:
    """The redirect URI uses https, or http only to a loopback address."""
    assert ctx.redirect_uri is not None
    problem = redirect_uri_problem(ctx.redirect_uri)
    if problem is not None:
        raise PageError(f"The registered redirect_uri {problem}.")


# -- authorization endpoint: errors go back to the client's redirect URI ----------------------


# RFC 8707 §2: `resource` may be sent more than once, one value per resource
REPEATABLE = frozenset({"resource"})


def _single_and_bounded(params: Params) -> None:
    repeated = [name for name in params.duplicated() if name not in REPEATABLE]
    if repeated:
        raise InvalidRequest(f"parameter sent more than once: {', '.join(sorted(repeated))}")
    oversized = params.oversized()
    if oversized:
        limit = value_limit(oversized[0])
        raise InvalidRequest(f"parameter longer than {limit} characters: {oversized[0]}")


@check("", "RFC 6749 §3.1")
def parameters_not_repeated(ctx: AuthorizeContext) -> None:
    """No parameter is sent twice, and none is longer than the sandbox accepts."""
    _single_and_bounded(ctx.params)


@check("AS-39", "RFC 6749 §3.1.1")
def response_type_present(ctx: AuthorizeContext) -> None:
    """response_type is present."""
    if ctx.params.get("response_type") is None:
        raise InvalidRequest("response_type is required")


@check("AS-21", "RFC 9700 §2.1.2", sets=("response_types",))
def response_type_code(ctx: AuthorizeContext) -> None:
    """response_type is `code`: the implicit and token-returning hybrid flows are refused.

    Tokens in the front channel leak through history, referrers and logs; RFC 9700 §2.1.2
    says clients SHOULD NOT use them, and the strict sandbox does not offer them (the lab
    switch implicit serves `token`, `id_token` and `id_token token`).
    """
    value = ctx.params.get("response_type") or ""
    if parse_response_type(value) != CODE:
        raise UnsupportedResponseType(
            f"response_type {value!r} is not supported; use the authorization code flow (code)"
        )
    ctx.response_types = CODE


@check("", "RFC 6749 §4.1.2.1; RFC 7591 §2", needs=("client",))
def client_may_use_response_type(ctx: AuthorizeContext) -> None:
    """The client registered this response_type (`code` for the authorization_code grant).

    A response type served to every client would let any client run a flow its owner never
    chose; this answers unauthorized_client, sent to the redirect URI validated above.
    """
    assert ctx.client is not None
    value = ctx.params.get("response_type") or ""
    requested = spell(parse_response_type(value))  # a space-separated set (RFC 6749 §3.1.1)
    if requested not in ctx.client.response_types:
        raise UnauthorizedClient(
            f"this client is not registered for response_type {value!r}; register it with "
            f"--response-type {requested!r}"
        )


@check(
    "",
    "OAuth 2.0 Multiple Response Types §2.1; OAuth 2.0 Form Post Response Mode §2",
    needs=("response_types",),
    sets=("response_mode",),
)
def response_mode_query(ctx: AuthorizeContext) -> None:
    """response_mode, when given, is `query`, the only mode the strict sandbox supports.

    With LAB implicit, a response carrying tokens goes in the fragment (its default) or by
    form_post, never in the query: Multiple Response Types §2.1 forbids query encoding for
    response types whose default is the fragment.
    """
    mode = ctx.params.get("response_mode")
    default = default_mode(ctx.response_types)
    allowed = (QUERY,) if default == QUERY else (FRAGMENT, FORM_POST)  # LAB implicit
    if mode is not None and mode not in allowed:
        ctx.response_mode = default  # the error itself travels in the default mode
        raise InvalidRequest(
            f"response_mode {mode!r} is not supported with response_type "
            f"{spell(ctx.response_types)!r}; use {' or '.join(allowed)}"
        )
    ctx.response_mode = mode or default


@check("AS-43", "RFC 6749 §3.3; RFC 9700 §2.3", needs=("client",), sets=("scopes",))
def scope_registered(ctx: AuthorizeContext) -> None:
    """scope is present and every scope in it is registered for the client.

    A client that registered itself (RFC 7591, or a client ID metadata document) may also ask
    for the scopes that a resource it names serves (RFC 8707 §2): what it registered is its
    own assertion, not an administrator's limit, and the user consents to every scope. This
    is the step-up of an MCP client, which registers with the first challenge's scope and is
    later asked for more. A client an administrator registered gets its registered scopes
    only.
    """
    assert ctx.client is not None
    scope = ctx.params.get("scope")
    if scope is None:
        raise InvalidScope("scope is required; ask only for what the app needs")
    scopes = requested_scope(scope)
    allowed = ctx.client.scopes
    if ctx.client.registered_itself:
        allowed = allowed.union(*(r.scopes for r in ctx.named_resources.values()))
    unknown = sorted(scopes.names - allowed)
    if unknown:
        raise InvalidScope(f"scope not allowed for this client: {' '.join(unknown)}")
    ctx.scopes = scopes


# -- token endpoint ---------------------------------------------------------------------------


@check("AS-24", "RFC 6749 §3.2")
def token_request_is_post(ctx: TokenContext) -> None:
    """The token request is a POST."""
    if ctx.request.method != "POST":
        raise MethodNotAllowed("the token endpoint accepts POST only")


@check("AS-23", "RFC 6749 §2.3.1")
def no_query_parameters(ctx: TokenContext) -> None:
    """Nothing is sent in the URL's query: credentials and codes belong in the body."""
    if ctx.request.query.pairs:
        raise InvalidRequest("send the token request's parameters in the body, not the URL")


@check("", "RFC 6749 §3.2")
def form_encoded(ctx: TokenContext) -> None:
    """The body is application/x-www-form-urlencoded."""
    if ctx.request.content_type != "application/x-www-form-urlencoded":
        raise InvalidRequest("the body must be application/x-www-form-urlencoded")


@check("AS-24", "RFC 6749 §3.2")
def token_parameters_not_repeated(ctx: TokenContext) -> None:
    """No parameter is sent twice, and none is longer than the sandbox accepts."""
    _single_and_bounded(ctx.params)


GRANT_TYPES = ("authorization_code", "refresh_token", "client_credentials", DEVICE_CODE)


@check("AS-22", "RFC 6749 §5.2; RFC 9700 §2.4", sets=("grant_type",))
def grant_type_supported(ctx: TokenContext) -> None:
    """grant_type is present and one the sandbox supports; the password grant is not."""
    grant_type = ctx.params.get("grant_type")
    if grant_type is None:
        raise InvalidRequest("grant_type is required")
    if grant_type not in GRANT_TYPES:
        raise UnsupportedGrantType(
            f"grant_type {grant_type!r} is not supported; use one of {', '.join(GRANT_TYPES)}"
        )
    ctx.grant_type = grant_type


@check("", "RFC 6749 §5.2", needs=("client", "grant_type"))
def client_may_use_grant(ctx: TokenContext) -> None:
    """The client is registered for this grant type."""
    assert ctx.client is not None
    if ctx.grant_type not in ctx.client.grant_types:
        raise UnauthorizedClient(f"this client is not registered for {ctx.grant_type}")


@check("", "RFC 6749 §4.4", needs=("client",))
def client_credentials_confidential(ctx: TokenContext) -> None:
    """Only a confidential client may use the client_credentials grant."""
    assert ctx.client is not None
    if ctx.client.is_public:
        raise UnauthorizedClient("client_credentials needs a confidential client")


@check("AS-43", "RFC 6749 §3.3, §4.4.2", needs=("client",), sets=("scopes",))
def client_scope_registered(ctx: TokenContext) -> None:
    """Every scope asked for is registered for the client (openid and offline_access excluded)."""
    assert ctx.client is not None
    allowed = ctx.client.scopes - {"openid", "offline_access"}
    requested = ctx.params.get("scope")
    scopes = requested_scope(requested) if requested else Scope(sorted(allowed))
    unknown = sorted(scopes.names - allowed)
    if unknown:
        raise InvalidScope(f"scope not allowed for this client: {' '.join(unknown)}")
    ctx.scopes = scopes


def requested_scope(text: str) -> Scope:
    """A request's scope parameter, parsed as RFC 6749 §3.3 defines it; `invalid_scope` if not."""
    try:
        return Scope.parse(text)
    except ScopeError as exc:
        raise InvalidScope(str(exc)) from None


def _no_reuse_error() -> InvalidGrant:
    return InvalidGrant("the authorization code is invalid, expired or already used")


@check("AS-15", "RFC 6749 §4.1.3", sets=("code",))
def code_known(ctx: TokenContext) -> None:
    """The code is one this server issued (looked up by its SHA-256)."""
    value = ctx.params.get("code")
    if value is None:
        raise InvalidRequest("code is required")
    found = ctx.presented_code  # loaded by the hash of the presented value
    if found is None or not same(found.code_hash, digest(value)):
        raise _no_reuse_error()
    ctx.code = found


@check("AS-19", "RFC 6749 §4.1.3", needs=("code", "client"))
def code_bound_to_client(ctx: TokenContext) -> None:
    """The code was issued to the client that redeems it."""
    assert ctx.code is not None and ctx.client is not None
    if ctx.code.client_id != ctx.client.client_id:
        raise _no_reuse_error()


@check("AS-16", "RFC 6749 §4.1.2, §10.5", needs=("code",))
def code_not_used_before(ctx: TokenContext) -> None:
    """The code has not been redeemed before; a second try revokes what the first got.

    RFC 6749 §4.1.2: if a code is used more than once, the server SHOULD revoke all tokens
    previously issued from it.
    """
    assert ctx.code is not None
    if ctx.code.used_at is not None:
        if ctx.code.grant_id is not None:
            ctx.actions.append(RevokeGrant(ctx.code.grant_id))
        raise InvalidGrant("the authorization code was already used; its tokens are revoked")


@check("AS-18", "RFC 6749 §4.1.2", needs=("code",))
def code_not_expired(ctx: TokenContext) -> None:
    """The code is redeemed before it expires (60 seconds by default)."""
    assert ctx.code is not None
    if ctx.code.expires_at <= ctx.now:
        raise _no_reuse_error()


@check("AS-11", "RFC 6749 §4.1.3", needs=("code", "client"))
def redirect_uri_matches(ctx: TokenContext) -> None:
    """redirect_uri is present and identical to the one in the authorization request."""
    assert ctx.code is not None and ctx.client is not None
    sent = ctx.params.get("redirect_uri")
    if sent != ctx.code.redirect_uri:
        raise InvalidGrant("redirect_uri does not match the authorization request")


# client authentication at the token, revocation and introspection endpoints (§2.3)


def _basic_credentials(header: str) -> tuple[str, str]:
    scheme, _, encoded = header.partition(" ")
    if scheme.lower() != "basic" or not encoded:
        raise InvalidClient("unsupported Authorization scheme; use Basic or client_secret_post")
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        raise InvalidClient("the Basic credentials are not valid base64") from None
    client_id, sep, secret = decoded.partition(":")
    if not sep:
        raise InvalidClient("the Basic credentials have no ':' between id and secret")
    return unquote_plus(client_id), unquote_plus(secret)


def presented_credentials(request: Request) -> Credentials:
    """What a back-channel request presents to authenticate its client (RFC 6749 §2.3), read
    once by the endpoint's loader. Never raises: what is wrong with them is kept as `problem`,
    which `client_authenticated` raises in its turn."""
    form = request.form
    header = request.headers.get("authorization")
    posted_secret = form.get("client_secret")
    if header is None:
        method = "client_secret_post" if posted_secret is not None else "none"
        return Credentials(form.get("client_id") or "", posted_secret, method)
    try:
        if posted_secret is not None:
            raise InvalidRequest("use one client authentication method, not two (RFC 6749 §2.3)")
        client_id, secret = _basic_credentials(header)
        if form.get("client_id") not in (None, client_id):
            raise InvalidRequest("client_id in the body differs from the Basic credentials")
    except OAuthError as problem:
        return Credentials("", None, "", problem)
    return Credentials(client_id, secret, "client_secret_basic")


def authenticate(named: Client | None, presented: Credentials) -> tuple[Client, str]:
    """The authenticated client and the method it used; raises InvalidClient (401).
    `named` is the stored client the credentials name, loaded before."""
    if presented.problem is not None:
        raise presented.problem
    client_id, method = presented.client_id, presented.method
    client = named if named is not None and named.client_id == client_id else None
    if client is None:
        raise InvalidClient("client authentication failed", detail=f"unknown client {client_id!r}")
    if client.secret_hash is None:
        if method != "none":
            raise InvalidClient("this public client has no secret; send client_id only")
        return client, method
    secret = presented.secret
    if secret is None or not same(digest(secret), client.secret_hash):
        raise InvalidClient("client authentication failed", detail=f"bad secret for {client_id!r}")
    _registered_method(client, method)
    return client, method


def _registered_method(client: Client, method: str) -> None:
    """The method is the one the client registered (RFC 7591 §2); told only to a client
    that proved its secret."""
    registered = client.token_endpoint_auth_method
    if method != registered:
        raise InvalidClient(
            f"this client is registered for {registered}, not {method}; authenticate with "
            f"{registered} (RFC 7591 §2)"
        )


@check("AS-23", "RFC 6749 §2.3.1, §3.2.1", needs=("credentials",), sets=("client",))
def client_authenticated(ctx: TokenContext) -> None:
    """The client authenticates (confidential) or identifies itself (public)."""
    assert ctx.credentials is not None
    ctx.client, ctx.auth_method = authenticate(ctx.named_client, ctx.credentials)

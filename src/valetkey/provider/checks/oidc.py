"""OpenID Connect Core 1.0 checks at the authorization endpoint."""

from __future__ import annotations

from valetkey.provider.checks import AuthorizeContext, FormContext, check
from valetkey.provider.errors import (
    AccessDenied,
    InvalidRequest,
    InvalidScope,
    PageError,
    RequestNotSupported,
    RequestUriNotSupported,
)

PROMPTS = frozenset({"none", "login", "consent", "select_account"})


@check("", "OIDC Core §6.1, §6.2")
def no_request_objects(ctx: AuthorizeContext) -> None:
    """request and request_uri are refused: the sandbox does not accept request objects."""
    if ctx.params.get("request") is not None:
        raise RequestNotSupported("request objects are not supported")
    if ctx.params.get("request_uri") is not None:
        raise RequestUriNotSupported("request_uri is not supported")


@check("", "OIDC Core §3.1.2.1")
def prompt_valid(ctx: AuthorizeContext) -> None:
    """prompt holds known values, and `none` stands alone."""
    raw = ctx.params.get("prompt")
    values = frozenset(raw.split()) if raw else frozenset()
    unknown = sorted(values - PROMPTS)
    if unknown:
        raise InvalidRequest(f"unknown prompt value: {' '.join(unknown)}")
    if "none" in values and len(values) > 1:
        raise InvalidRequest("prompt=none cannot be combined with other values")
    ctx.prompt = values


@check("", "OIDC Core §3.1.2.1")
def max_age_valid(ctx: AuthorizeContext) -> None:
    """max_age, when given, is a whole number of seconds."""
    raw = ctx.params.get("max_age")
    if raw is None:
        return
    if not raw.isdigit() or len(raw) > 9:
        raise InvalidRequest("max_age must be a non-negative whole number of seconds")
    ctx.max_age = int(raw)


@check("", "OIDC Core §3.1.2.3")
def user_authenticated(ctx: FormContext) -> None:
    """The user authenticates: the username is known and the password verifies."""
    if not ctx.password_ok:
        raise AccessDenied("wrong username or password")


@check("", "OIDC Core §3.1.2.4")
def consent_by_signed_in_user(ctx: FormContext) -> None:
    """Consent comes from a signed-in user (the one whose data the app will reach)."""
    if not ctx.signed_in:
        raise PageError("nobody is signed in in this browser")


@check("AS-32", "OIDC Core §3.2.2.1", needs=("response_types",))
def nonce_with_front_channel_id_token(ctx: AuthorizeContext) -> None:
    """nonce is present when the ID token comes from the authorization endpoint.

    OIDC Core §3.2.2.1 makes nonce REQUIRED for the implicit flow: an ID token that travels
    through the browser can only be tied to this sign-in by the nonce it carries back.
    """
    if "id_token" in ctx.response_types and ctx.params.get("nonce") is None:
        raise InvalidRequest(
            "nonce is required when the ID token is returned from the authorization endpoint"
        )


@check("", "OIDC Core §3.2.2.1", needs=("response_types", "scopes"))
def openid_scope_for_id_token(ctx: AuthorizeContext) -> None:
    """An ID token is only returned to a request whose scope includes `openid`."""
    if "id_token" in ctx.response_types and "openid" not in ctx.scopes:
        raise InvalidScope("response_type id_token needs the openid scope")

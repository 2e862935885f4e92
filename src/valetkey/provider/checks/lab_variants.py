"""The lab switches' variants of strict checks: each takes the check in the slot it fills
and returns a relaxed one with the same id and clause and a title that says LAB. Which switch
uses which is declared in `valetkey.provider.lab`, next to its warning."""

from __future__ import annotations

from valetkey.oauth import pkce
from valetkey.oauth.redirect_uris import loose_redirect_uri_problem
from valetkey.provider.checks import AuthorizeContext, Check, TokenContext
from valetkey.provider.errors import InvalidGrant, InvalidRequest, PageError
from valetkey.provider.response_modes import IMPLICIT_TYPES, parse_response_type
from valetkey.provider.tokens import same


def prefix_redirect_uri(strict: Check[AuthorizeContext]) -> Check[AuthorizeContext]:
    def run(ctx: AuthorizeContext) -> None:
        assert ctx.client is not None
        values = ctx.params.values("redirect_uri")
        if len(values) != 1:
            raise PageError("The request must carry the app's redirect_uri exactly once.")
        if not any(values[0].startswith(uri) for uri in ctx.client.redirect_uris):
            raise PageError("The redirect_uri is not registered for this app.")
        ctx.redirect_uri = values[0]

    return strict.wrapped(
        "LAB loose-redirect: redirect_uri starts with a registered URI",
        "Prefix matching, as many early providers did; RFC 9700 §4.1.3 forbids it.",
        run,
    )


def loose_scheme(strict: Check[AuthorizeContext]) -> Check[AuthorizeContext]:
    def run(ctx: AuthorizeContext) -> None:
        assert ctx.redirect_uri is not None
        problem = loose_redirect_uri_problem(ctx.redirect_uri)
        if problem is not None:
            raise PageError(f"The registered redirect_uri {problem}.")

    return strict.wrapped(
        "LAB loose-redirect: any redirect URI that is safe to put in a header",
        "http to any host is accepted.",
        run,
    )


def prefix_token_redirect_uri(strict: Check[TokenContext]) -> Check[TokenContext]:
    def run(ctx: TokenContext) -> None:
        assert ctx.client is not None
        sent = ctx.params.get("redirect_uri")
        if sent is None or not any(sent.startswith(r) for r in ctx.client.redirect_uris):
            raise InvalidGrant("redirect_uri is not registered")

    return strict.wrapped(
        "LAB loose-redirect: redirect_uri starts with a registered URI",
        "The token request's redirect_uri is not compared with the authorization request's.",
        run,
    )


def absent_challenge_ok(inner: Check[AuthorizeContext]) -> Check[AuthorizeContext]:
    def run(ctx: AuthorizeContext) -> None:
        if ctx.params.get("code_challenge") is not None:
            inner.run(ctx)

    return inner.wrapped(
        f"LAB no-pkce: {inner.title}, when a challenge is sent",
        "A request without PKCE is accepted.",
        run,
    )


def plain_method_ok(inner: Check[AuthorizeContext]) -> Check[AuthorizeContext]:
    def run(ctx: AuthorizeContext) -> None:
        if ctx.params.get("code_challenge_method") not in (None, "plain"):
            inner.run(ctx)

    return inner.wrapped(
        "LAB plain-pkce: code_challenge_method is S256 or plain",
        "plain (or no method, which means plain) is accepted.",
        run,
    )


def plain_challenge_shape(inner: Check[AuthorizeContext]) -> Check[AuthorizeContext]:
    def run(ctx: AuthorizeContext) -> None:
        challenge = ctx.params.get("code_challenge")
        if challenge is None or ctx.params.get("code_challenge_method") not in (None, "plain"):
            inner.run(ctx)
            return
        if not pkce.is_well_formed(challenge):
            raise InvalidRequest("a plain code_challenge must be 43 to 128 characters")

    return inner.wrapped(
        f"LAB plain-pkce: {inner.title}, or a plain challenge shaped like a verifier",
        "A plain challenge is the verifier itself, so it has a verifier's shape.",
        run,
    )


def plain_verifier_ok(inner: Check[TokenContext]) -> Check[TokenContext]:
    def run(ctx: TokenContext) -> None:
        assert ctx.code is not None
        verifier = ctx.params.get("code_verifier")
        challenge = ctx.code.code_challenge
        if challenge is None or ctx.code.code_challenge_method not in (None, "plain"):
            inner.run(ctx)
            return
        if verifier is None:
            raise InvalidGrant("code_verifier is required: the authorization request used PKCE")
        if not same(verifier, challenge):
            raise InvalidGrant("code_verifier does not match the code_challenge")

    return inner.wrapped(
        "LAB plain-pkce: the code_verifier matches the challenge, plain or S256",
        "For a plain challenge the verifier is compared with it as it is.",
        run,
    )


def token_without_pkce(inner: Check[AuthorizeContext]) -> Check[AuthorizeContext]:
    def run(ctx: AuthorizeContext) -> None:
        if ctx.returns_code or ctx.params.get("code_challenge"):
            inner.run(ctx)

    return inner.wrapped(
        f"LAB implicit: {inner.title} (code flow only)",
        "No code is issued in the implicit flow, so there is nothing for PKCE to protect.",
        run,
    )


def implicit_response_type(strict: Check[AuthorizeContext]) -> Check[AuthorizeContext]:
    def run(ctx: AuthorizeContext) -> None:
        types = parse_response_type(ctx.params.get("response_type") or "")
        if types in IMPLICIT_TYPES:
            ctx.response_types = types
            return
        strict.run(ctx)

    return strict.wrapped(
        "LAB implicit: response_type is code, token, id_token or id_token token",
        "The implicit grant (RFC 6749 §4.2) and OIDC's implicit flow (OIDC Core §3.2) put the "
        "tokens in the front channel: the fragment, or a form the browser posts.",
        run,
    )

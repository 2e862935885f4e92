"""RFC 7636 (PKCE) checks, with RFC 9700's requirements: S256 only, and PKCE by default.

Strict only: the lab switches no-pkce, plain-pkce and implicit change this module's checks
from `valetkey.provider.lab`, never from in here.
"""

from __future__ import annotations

from valetkey.oauth import pkce
from valetkey.provider.checks import AuthorizeContext, TokenContext, check
from valetkey.provider.errors import InvalidGrant, InvalidRequest
from valetkey.provider.tokens import same


@check("AS-03", "RFC 7636 §4.3; RFC 9700 §2.1.1")
def challenge_method_s256(ctx: AuthorizeContext) -> None:
    """code_challenge_method is S256; `plain` (or leaving it out, which means plain) is refused."""
    method = ctx.params.get("code_challenge_method")
    challenge = ctx.params.get("code_challenge")
    if method is None and challenge is None:
        return
    if method != pkce.S256:
        raise InvalidRequest("code_challenge_method must be S256; plain is not accepted")


@check("AS-06", "RFC 9700 §2.1.1", needs=("client",))
def challenge_required(ctx: AuthorizeContext) -> None:
    """A code_challenge is sent: always for public clients, and for confidential ones too."""
    assert ctx.client is not None
    if ctx.params.get("code_challenge") is None:
        kind = "public" if ctx.client.is_public else "confidential"
        raise InvalidRequest(f"code_challenge (PKCE, S256) is required for this {kind} client")


@check("", "RFC 7636 §4.2")
def challenge_well_formed(ctx: AuthorizeContext) -> None:
    """code_challenge is 43 base64url characters, the length of an S256 challenge."""
    if not pkce.is_s256_challenge(ctx.params.get("code_challenge") or ""):
        raise InvalidRequest("code_challenge must be 43 base64url characters (S256 of a verifier)")


@check("AS-07", "RFC 7636 §4.1")
def verifier_well_formed(ctx: TokenContext) -> None:
    """code_verifier, when sent, is 43 to 128 unreserved characters."""
    verifier = ctx.params.get("code_verifier")
    if verifier is not None and not pkce.is_well_formed(verifier):
        raise InvalidRequest("code_verifier must be 43 to 128 characters of [A-Za-z0-9-._~]")


@check("AS-04", "RFC 7636 §4.6", needs=("code",))
def verifier_matches(ctx: TokenContext) -> None:
    """A code issued with a challenge is redeemed only with the matching code_verifier."""
    assert ctx.code is not None
    if ctx.code.code_challenge is None:
        return
    verifier = ctx.params.get("code_verifier")
    if verifier is None:
        raise InvalidGrant("code_verifier is required: the authorization request used PKCE")
    if not same(pkce.s256(verifier), ctx.code.code_challenge):
        raise InvalidGrant("code_verifier does not match the code_challenge")


@check("AS-05", "RFC 9700 §4.8.2", needs=("code",))
def no_pkce_downgrade(ctx: TokenContext) -> None:
    """A code issued without a challenge is refused when a code_verifier is sent (downgrade)."""
    assert ctx.code is not None
    if ctx.code.code_challenge is None and ctx.params.get("code_verifier") is not None:
        raise InvalidGrant("code_verifier sent, but the authorization request had no challenge")

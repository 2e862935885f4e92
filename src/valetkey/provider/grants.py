"""The grants of the token endpoint and what a successful one hands out.

The authorization_code grant (RFC 6749 §4.1.3, RFC 7636 §4.5, OIDC Core §3.1.3), the
refresh_token grant with rotation (RFC 6749 §6, RFC 9700 §4.14.2) and client_credentials
(RFC 6749 §4.4); each is a table of checks and a `redeem` that claims and mints. What they
mint is the token response of RFC 6749 §5.1: access token, refresh token, ID token. The
caller stores the rows in the request's one transaction.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from valetkey.oauth.base64url import left_half_hash
from valetkey.oauth.client_metadata import DEVICE_CODE
from valetkey.oauth.scope import Scope
from valetkey.provider.checks import (
    RevokeGrant,
    Table,
    TokenContext,
    rfc6749,
    rfc7636,
    rfc8628,
    rfc8707,
    rfc9449,
    rfc9700,
)
from valetkey.provider.core import Provider
from valetkey.provider.errors import InvalidGrant
from valetkey.provider.lab import LabSwitch
from valetkey.provider.store.records import Client, Grant, Token, User
from valetkey.provider.tokens import (
    REFRESH_PREFIX,
    Minted,
    aud_claim,
    mint_access_jwt,
    mint_opaque,
    sign,
)

PROFILE_CLAIMS = ("name", "given_name", "family_name", "preferred_username", "picture", "locale")
EMAIL_CLAIMS = ("email", "email_verified")


def user_claims(user: User, scopes: Scope) -> dict[str, Any]:
    """The claims a scope releases (OIDC Core §5.4)."""
    claims: dict[str, Any] = {"sub": user.sub}
    if "profile" in scopes:
        claims["preferred_username"] = user.username
        claims.update({k: user.claims[k] for k in PROFILE_CLAIMS if k in user.claims})
    if "email" in scopes:
        claims.update({k: user.claims[k] for k in EMAIL_CLAIMS if k in user.claims})
    return claims


@dataclass(frozen=True)
class Issued:
    """The token response's body, the token rows to store, and the grant if it is new."""

    body: dict[str, Any]
    tokens: list[Token]
    new_grant: Grant | None = None


def new_grant(
    client: Client, user: User | None, scope: str, flow_id: str | None, now: float
) -> Grant:
    return Grant(
        secrets.token_hex(16),
        client.client_id,
        user.id if user else None,
        scope,
        flow_id,
        now,
        None,
    )


@dataclass(frozen=True)
class Audience:
    """RFC 8707 §2: the resources an access token is for (none named: the sandbox's own
    API), and those its refresh token may still ask for (all the grant authorized)."""

    resources: tuple[str, ...] = ()
    authorized: tuple[str, ...] = ()

    @classmethod
    def of(cls, named: tuple[str, ...] | None, authorized: str) -> Audience:
        """The resources named at the token endpoint (None: all that were authorized)."""
        held = tuple(authorized.split())
        return cls(held if named is None else named, held)


def _access_token(
    provider: Provider,
    client: Client,
    user: User | None,
    scope: str,
    now: float,
    jkt: str | None,
    audience: Audience,
) -> Minted:
    ttl = provider.settings.access_token_ttl
    if provider.settings.access_token_format == "opaque":  # noqa: S105 (a format name)
        return mint_opaque()
    claims: dict[str, Any] = {
        "iss": provider.issuer,
        "sub": user.sub if user else client.client_id,
        "aud": aud_claim(provider.issuer, audience.resources),
        "client_id": client.client_id,
        "scope": scope,
        "iat": int(now),
        "exp": int(now) + ttl,
    }
    if jkt is not None:
        claims["cnf"] = {"jkt": jkt}  # RFC 9449 §6.1
    if user is None:  # queued through the admin API for this client's next token
        claims = {**provider.admin.take_claims("client", client.client_id), **claims}
    return mint_access_jwt(provider.keys, claims)


def _row(
    minted: Minted,
    kind: str,
    client: Client,
    user: User | None,
    grant_id: str | None,
    scope: str,
    now: float,
    ttl: int,
) -> Token:
    return Token(
        minted.id,
        kind,
        grant_id,
        client.client_id,
        user.id if user else None,
        scope,
        now,
        now + ttl,
        None,
        None,
    )


def issue(
    provider: Provider,
    client: Client,
    user: User | None,
    scope: str,
    grant_id: str | None,
    *,
    refresh: bool,
    id_token_claims: dict[str, Any] | None = None,
    jkt: str | None = None,
    audience: Audience = Audience(),
    refresh_scope: str | None = None,
) -> Issued:
    """Mint the tokens; the caller stores them (with any new grant) in one transaction.
    With `jkt` (a DPoP proof came along) the access token is bound to that key; the access
    token's row keeps its audience, the refresh token's the resources authorized, and its
    scope is `refresh_scope` where the access token's was cut down to its audience."""
    now = provider.clock.now()
    settings = provider.settings
    access = _access_token(provider, client, user, scope, now, jkt, audience)
    row = _row(access, "access", client, user, grant_id, scope, now, settings.access_token_ttl)
    rows = [replace(row, jkt=jkt, resources=" ".join(audience.resources))]
    body: dict[str, Any] = {
        "access_token": access.value,
        "token_type": "DPoP" if jkt else "Bearer",  # RFC 9449 §5
        "expires_in": settings.access_token_ttl,  # AS-28
        "scope": scope,
    }
    if refresh:
        minted = mint_opaque(REFRESH_PREFIX)
        ttl = settings.refresh_token_ttl
        held = scope if refresh_scope is None else refresh_scope
        row = _row(minted, "refresh", client, user, grant_id, held, now, ttl)
        authorized = " ".join(audience.authorized)
        rows.append(replace(row, jkt=jkt, resources=authorized))  # RFC 9449 §5: same key
        body["refresh_token"] = minted.value
    if id_token_claims is not None:
        if user is not None and provider.admin.may_have_claims():  # queued by the admin API
            queued = provider.admin.take_claims("user", user.username)
            id_token_claims = {**id_token_claims, **queued}
        body["id_token"] = id_token(provider, client, id_token_claims, now, access.value)
    return Issued(body, rows)


def id_token(
    provider: Provider,
    client: Client,
    extra: dict[str, Any],
    now: float,
    access_token: str | None,
) -> str:
    """OIDC Core §2, §3.1.3.6 and §3.2.2.10: iss, sub, aud, exp, iat, auth_time, nonce, and
    at_hash when an access token is issued with it."""
    claims = {
        **extra,
        "iss": provider.issuer,
        "aud": client.client_id,
        "iat": int(now),
        "exp": int(now) + 300,
    }
    if access_token is not None:
        claims["at_hash"] = left_half_hash(access_token)
    return sign(claims, provider.keys, client.id_token_signed_response_alg)


# the authorization_code grant (RFC 6749 §4.1.3, RFC 7636 §4.5, OIDC Core §3.1.3)

AUTHORIZATION_CODE_CHECKS = Table.of(
    "token: authorization_code",
    [
        rfc6749.code_known,
        rfc6749.code_bound_to_client,
        rfc6749.code_not_used_before,
        rfc6749.code_not_expired,
        rfc6749.redirect_uri_matches,
        rfc7636.verifier_well_formed,
        rfc7636.verifier_matches,
        rfc7636.no_pkce_downgrade,
        rfc8707.code_resources_authorized,
    ],
    given=("client", "grant_type"),
)


def redeem_code(provider: Provider, ctx: TokenContext) -> Issued:
    """Claim the code atomically, then issue; a lost race counts as a replay (AS-15, AS-17).
    The claim and the tokens are written in the request's one transaction."""
    code, client = ctx.code, ctx.client
    assert code is not None and client is not None
    user = provider.store.user_by_id(code.user_id)
    if user is None:
        raise InvalidGrant("the user of this code no longer exists")
    grant = new_grant(client, user, code.scope, code.flow_id, ctx.now)
    claimed = provider.store.claim_code(code.code_hash, ctx.now, grant.id)
    if not claimed and not provider.lab(LabSwitch.CODE_REUSE):  # LAB code-reuse
        raise InvalidGrant("the authorization code was already used")
    scopes = Scope.lenient(code.scope)
    id_claims: dict[str, Any] | None = None
    if "openid" in scopes:
        id_claims = {**user_claims(user, scopes), "auth_time": int(code.auth_time)}
        if code.nonce is not None:
            id_claims["nonce"] = code.nonce  # OIDC Core §3.1.3.6
    refresh = "refresh_token" in client.grant_types
    issued = issue(
        provider,
        client,
        user,
        code.scope if ctx.access_scopes is None else str(ctx.access_scopes),  # RFC 8707 §2.2
        grant.id,
        refresh=refresh,
        id_token_claims=id_claims,
        jkt=ctx.dpop_jkt,
        audience=Audience.of(ctx.resources, code.resources),
        refresh_scope=code.scope,
    )
    return Issued(issued.body, issued.tokens, grant)


# the refresh_token grant with rotation (RFC 6749 §6, RFC 9700 §4.14.2)

REFRESH_TOKEN_CHECKS = Table.of(
    "token: refresh_token",
    [
        rfc9700.refresh_token_known,
        rfc9700.refresh_token_not_replayed,
        rfc9449.refresh_proof_same_key,
        rfc9700.refresh_scope_not_broader,
        rfc8707.refresh_resources_within_grant,
    ],
    given=("client", "grant_type"),
)


def redeem_refresh(provider: Provider, ctx: TokenContext) -> Issued:
    """Use the refresh token up (atomically) and issue a new pair in the same grant."""
    token, client, now = ctx.refresh, ctx.client, ctx.now
    assert token is not None and client is not None
    user = provider.store.user_by_id(token.user_id) if token.user_id is not None else None
    access_scope = str(ctx.scopes if ctx.access_scopes is None else ctx.access_scopes)
    if provider.lab(LabSwitch.NO_REFRESH_ROTATION):  # LAB: the same refresh token, forever
        issued = issue(
            provider,
            client,
            user,
            access_scope,
            token.grant_id,
            refresh=False,
            jkt=ctx.dpop_jkt,
            audience=Audience.of(ctx.resources, token.resources),
        )
        issued.body["refresh_token"] = ctx.params.get("refresh_token")
        return issued
    if not provider.store.claim_refresh_token(token.id, now):
        if token.grant_id is not None:  # lost a race with another use: treat as replay
            ctx.actions.append(RevokeGrant(token.grant_id))
        raise InvalidGrant("the refresh token was already used; its token family is revoked")
    return issue(
        provider,
        client,
        user,
        access_scope,  # RFC 8707 §2.2: cut down to the resources named
        token.grant_id,
        refresh=True,
        jkt=ctx.dpop_jkt,
        audience=Audience.of(ctx.resources, token.resources),
        refresh_scope=str(ctx.scopes),
    )


# the client_credentials grant (RFC 6749 §4.4): an access token and nothing else

CLIENT_CREDENTIALS_CHECKS = Table.of(
    "token: client_credentials",
    [
        rfc6749.client_credentials_confidential,
        rfc6749.client_scope_registered,
        rfc8707.client_credentials_resources,
    ],
    given=("client", "grant_type"),
)


def redeem_client_credentials(provider: Provider, ctx: TokenContext) -> Issued:
    """No refresh token (RFC 6749 §4.4.3; AS-27) and no ID token: there is no user."""
    assert ctx.client is not None
    scope = ctx.scopes if ctx.access_scopes is None else ctx.access_scopes  # RFC 8707 §2
    return issue(
        provider,
        ctx.client,
        None,
        str(scope),
        None,
        refresh=False,
        jkt=ctx.dpop_jkt,
        audience=Audience.of(ctx.resources, ""),
    )


# the device_code grant (RFC 8628 §3.4, §3.5)


def redeem_device(provider: Provider, ctx: TokenContext) -> Issued:
    """Claim the approved device request atomically (once), then issue as for a code."""
    device, client = ctx.device, ctx.client
    assert device is not None and client is not None
    user = provider.store.user_by_id(device.user_id) if device.user_id is not None else None
    if user is None:
        raise InvalidGrant("the user of this device request no longer exists")
    if not provider.store.claim_device_code(device.device_code_hash):
        raise InvalidGrant("the device code was already used")
    grant = new_grant(client, user, device.scope, device.flow_id, ctx.now)
    scopes = Scope.lenient(device.scope)
    id_claims: dict[str, Any] | None = None
    if "openid" in scopes:
        id_claims = {**user_claims(user, scopes), "auth_time": int(device.auth_time or ctx.now)}
    refresh = "refresh_token" in client.grant_types
    issued = issue(
        provider,
        client,
        user,
        device.scope,
        grant.id,
        refresh=refresh,
        id_token_claims=id_claims,
        jkt=ctx.dpop_jkt,
    )
    return Issued(issued.body, issued.tokens, grant)


@dataclass(frozen=True)
class GrantType:
    """A grant_type the token endpoint serves: its checks and how it redeems."""

    checks: Table[TokenContext]
    redeem: Callable[[Provider, TokenContext], Issued]


GRANT_TYPES: dict[str, GrantType] = {
    "authorization_code": GrantType(AUTHORIZATION_CODE_CHECKS, redeem_code),
    "refresh_token": GrantType(REFRESH_TOKEN_CHECKS, redeem_refresh),
    "client_credentials": GrantType(CLIENT_CREDENTIALS_CHECKS, redeem_client_credentials),
    DEVICE_CODE: GrantType(rfc8628.DEVICE_CODE_CHECKS, redeem_device),
}

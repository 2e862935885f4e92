"""What a successful grant hands out: access token, refresh token, ID token (RFC 6749 §5.1)."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, replace
from typing import Any

from valetkey.oauth.jose import left_half_hash
from valetkey.oauth.scope import Scope
from valetkey.provider.core import Provider
from valetkey.provider.store.records import Client, Grant, Token, User
from valetkey.provider.tokens import (
    REFRESH_PREFIX,
    Minted,
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


def _access_token(
    provider: Provider,
    client: Client,
    user: User | None,
    scope: str,
    now: float,
    jkt: str | None,
) -> Minted:
    ttl = provider.settings.access_token_ttl
    if provider.settings.access_token_format == "opaque":  # noqa: S105 (a format name)
        return mint_opaque()
    claims = {
        "iss": provider.issuer,
        "sub": user.sub if user else client.client_id,
        "aud": provider.issuer + "/api",
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
) -> Issued:
    """Mint the tokens; the caller stores them (with any new grant) in one transaction.
    With `jkt` (a DPoP proof came along) the access token is bound to that key."""
    now = provider.clock.now()
    settings = provider.settings
    access = _access_token(provider, client, user, scope, now, jkt)
    row = _row(access, "access", client, user, grant_id, scope, now, settings.access_token_ttl)
    rows = [replace(row, jkt=jkt)]
    body: dict[str, Any] = {
        "access_token": access.value,
        "token_type": "DPoP" if jkt else "Bearer",  # RFC 9449 §5
        "expires_in": settings.access_token_ttl,  # AS-28
        "scope": scope,
    }
    if refresh:
        minted = mint_opaque(REFRESH_PREFIX)
        ttl = settings.refresh_token_ttl
        row = _row(minted, "refresh", client, user, grant_id, scope, now, ttl)
        rows.append(replace(row, jkt=jkt))  # RFC 9449 §5: bound to the same key
        body["refresh_token"] = minted.value
    if id_token_claims is not None:
        if user is not None and provider.admin.queued_claims:  # queued by the admin API
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

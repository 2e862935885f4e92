"""Rows as frozen dataclasses: what the protocol core reads from the store."""

from __future__ import annotations

from dataclasses import dataclass

from valetkey.oauth.client_metadata import ClientMetadata


@dataclass(frozen=True)
class User:
    id: int
    sub: str
    username: str
    password_hash: str
    claims: dict[str, object]


@dataclass(frozen=True, kw_only=True)
class Client:
    """A registered client: its validated metadata (valetkey.oauth.client_metadata) and the
    SHA-256 of its secret (None for a public client)."""

    client_id: str
    secret_hash: str | None
    name: str
    redirect_uris: tuple[str, ...]
    post_logout_redirect_uris: tuple[str, ...]
    scopes: frozenset[str]
    grant_types: frozenset[str]
    id_token_alg: str
    token_endpoint_auth_method: str
    response_types: frozenset[str]

    @property
    def is_public(self) -> bool:
        return self.secret_hash is None

    @classmethod
    def registered(cls, metadata: ClientMetadata, secret_hash: str | None) -> Client:
        """The row for a registration that passed `client_metadata()`'s rules."""
        if metadata.public != (secret_hash is None):
            raise ValueError("a public client has no secret, a confidential one has one")
        return cls(
            client_id=metadata.client_id,
            secret_hash=secret_hash,
            name=metadata.name,
            redirect_uris=metadata.redirect_uris,
            post_logout_redirect_uris=metadata.post_logout_redirect_uris,
            scopes=metadata.scopes,
            grant_types=metadata.grant_types,
            id_token_alg=metadata.id_token_signed_response_alg,
            token_endpoint_auth_method=metadata.token_endpoint_auth_method,
            response_types=metadata.response_types,
        )


@dataclass(frozen=True)
class AuthRequest:
    id: str
    browser_hash: str
    client_id: str
    redirect_uri: str
    scope: str
    state: str | None
    nonce: str | None
    code_challenge: str | None
    code_challenge_method: str | None
    prompt: str | None
    max_age: int | None
    flow_id: str
    expires_at: float
    response_type: str = "code"


@dataclass(frozen=True)
class LoginSession:
    user_id: int
    auth_time: float
    expires_at: float


@dataclass(frozen=True)
class Code:
    code_hash: str
    client_id: str
    user_id: int
    redirect_uri: str
    scope: str
    nonce: str | None
    code_challenge: str | None
    code_challenge_method: str | None
    auth_time: float
    flow_id: str
    expires_at: float
    used_at: float | None
    grant_id: str | None


@dataclass(frozen=True)
class Grant:
    id: str
    client_id: str
    user_id: int | None
    scope: str
    flow_id: str | None
    created_at: float
    revoked_at: float | None


@dataclass(frozen=True)
class Token:
    id: str
    kind: str  # "access" or "refresh"
    grant_id: str | None
    client_id: str
    user_id: int | None
    scope: str
    created_at: float
    expires_at: float
    revoked_at: float | None
    used_at: float | None
    jkt: str | None = None  # the DPoP key this token is bound to (RFC 9449 §6)


@dataclass(frozen=True)
class Consent:
    client_id: str
    client_name: str
    scope: str
    granted_at: float


@dataclass(frozen=True)
class FlowEvent:
    flow_id: str
    at: float
    step: str
    sender: str
    receiver: str
    channel: str  # "front" or "back"
    summary: str
    params: dict[str, str]
    checks: list[dict[str, str]]
    carried_password: bool


@dataclass(frozen=True)
class FlowStart:
    """A new flow, to be stored before its events."""

    flow_id: str
    client_id: str
    at: float


@dataclass(frozen=True)
class FlowUpdate:
    """An event of a flow, and what it changes in the flow's summary row."""

    event: FlowEvent
    outcome: str | None = None
    user_id: int | None = None

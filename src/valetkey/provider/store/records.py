"""Rows as frozen dataclasses: what the protocol core reads from the store."""

from __future__ import annotations

from dataclasses import dataclass

from valetkey.oauth.client_metadata import ClientMetadata
from valetkey.oauth.flow import FlowEvent


@dataclass(frozen=True)
class User:
    id: int
    sub: str
    username: str
    password_hash: str
    claims: dict[str, object]


# how a client was registered: by an admin (the CLI, the admin API, the demo data), by
# itself at the registration endpoint (RFC 7591), or by a client ID metadata document
ORIGINS = ("admin", "dynamic", "cimd")


@dataclass(frozen=True, kw_only=True)
class Client(ClientMetadata):
    """A registered client: its validated metadata (valetkey.oauth.client_metadata) and the
    SHA-256 of its secret (None, and only None, for a public client)."""

    secret_hash: str | None
    origin: str = "admin"  # how it was registered: one of ORIGINS

    def __post_init__(self) -> None:
        if self.public != (self.secret_hash is None):
            raise ValueError("a public client has no secret, a confidential one has one")

    @property
    def is_public(self) -> bool:
        return self.public

    @property
    def registered_itself(self) -> bool:
        """Registered by the client itself (RFC 7591, or a metadata document), not an admin."""
        return self.origin != "admin"

    @classmethod
    def registered(
        cls, metadata: ClientMetadata, secret_hash: str | None, origin: str = "admin"
    ) -> Client:
        """The row for a registration that passed `client_metadata()`'s rules."""
        return cls(**vars(metadata), secret_hash=secret_hash, origin=origin)


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
    resources: str = ""  # RFC 8707 §2: the canonical resources asked for, space-separated


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
    resources: str = ""  # RFC 8707 §2: the resources authorized, space-separated


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
    # RFC 8707: an access token's audience (empty: the sandbox's own API), a refresh
    # token's authorized resources; canonical URIs, space-separated
    resources: str = ""


@dataclass(frozen=True)
class Resource:
    """A protected resource a `resource` parameter may name (RFC 8707 §2)."""

    uri: str  # canonical
    name: str
    scopes: frozenset[str]
    client_id: str | None = None  # the resource server's own client (RFC 7662 §2.1)


@dataclass(frozen=True)
class Consent:
    client_id: str
    client_name: str
    scope: str
    granted_at: float
    origin: str = "admin"  # how the client was registered (ORIGINS)

    @property
    def registered_itself(self) -> bool:
        return self.origin != "admin"


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


@dataclass(frozen=True)
class DeviceCode:
    """A device authorization request (RFC 8628 §3.1): the device code as its SHA-256, the
    user code the user types, and what the user decided (`status`)."""

    device_code_hash: str
    user_code: str
    client_id: str
    scope: str
    flow_id: str
    expires_at: float
    poll_interval: int  # seconds the device waits between polls (RFC 8628 §3.2, §3.5)
    last_polled_at: float | None
    status: str  # pending, approved, denied, used
    user_id: int | None
    auth_time: float | None


@dataclass(frozen=True)
class SharedRequestState:
    """What a request on a shared database reads as it starts (`Store.request_state`)."""

    clock_offset: float
    claims_queued: bool
    fault: tuple[int | None, float, bool] | None  # (status, delay, malformed), taken

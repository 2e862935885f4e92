"""The tables. Times are seconds since the epoch (float); JSON columns hold text.

Secrets are never stored in the clear: client secrets, codes, opaque access tokens, refresh
tokens and session ids are stored as their SHA-256 (hex), which is enough for values with at
least 128 bits of entropy (RFC 6819 §5.1.4.1.3); user passwords are argon2id hashes.
"""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    Column,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
)

metadata = MetaData()

server_state = Table(
    "server_state",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("value", Text, nullable=False),
)

signing_keys = Table(
    "signing_keys",
    metadata,
    Column("kid", String(64), primary_key=True),
    Column("alg", String(16), nullable=False),
    Column("private_jwk", Text, nullable=False),
    Column("created_at", Float, nullable=False),
    Column("retired_at", Float),
)

users = Table(
    "users",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("sub", String(64), nullable=False, unique=True),
    Column("username", String(150), nullable=False, unique=True),
    Column("password_hash", String(255), nullable=False),
    Column("claims", Text, nullable=False),
    Column("created_at", Float, nullable=False),
)

clients = Table(
    "clients",
    metadata,
    Column("client_id", String(255), primary_key=True),
    Column("secret_hash", String(64)),
    Column("name", String(255), nullable=False),
    Column("redirect_uris", Text, nullable=False),
    Column("post_logout_redirect_uris", Text, nullable=False),
    Column("scopes", Text, nullable=False),
    Column("grant_types", Text, nullable=False),
    Column("id_token_alg", String(16), nullable=False),
    Column("created_at", Float, nullable=False),
    # RFC 7591 §2; rows from before revision 0004 got values that keep how they worked
    Column("token_endpoint_auth_method", String(32), nullable=False),
    Column("response_types", Text, nullable=False),  # a JSON list of space-separated sets
    # revision 0006: OIDC Registration §2, and how the client was registered (records.ORIGINS)
    Column("application_type", String(16), nullable=False, server_default="web"),
    Column("origin", String(16), nullable=False, server_default="admin"),
)

# RFC 8707 §2: the resources a `resource` parameter may name, with the scopes each serves
resources = Table(
    "resources",
    metadata,
    Column("uri", String(2000), primary_key=True),  # canonical (valetkey.oauth.resource_uri)
    Column("name", String(255), nullable=False),
    Column("scopes", Text, nullable=False),  # space-separated
    Column("created_at", Float, nullable=False),
    # revision 0008: the resource server's own client, which may introspect its tokens
    Column("client_id", String(255), nullable=True),
)

login_sessions = Table(
    "login_sessions",
    metadata,
    Column("id_hash", String(64), primary_key=True),
    Column("user_id", Integer, ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("auth_time", Float, nullable=False),
    Column("expires_at", Float, nullable=False),
)

consents = Table(
    "consents",
    metadata,
    Column("user_id", Integer, ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    Column(
        "client_id",
        String(255),
        ForeignKey("clients.client_id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column("scope", Text, nullable=False),
    Column("granted_at", Float, nullable=False),
)

auth_requests = Table(
    "auth_requests",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("browser_hash", String(64), nullable=False),
    Column("client_id", String(255), nullable=False),
    Column("redirect_uri", Text, nullable=False),
    Column("scope", Text, nullable=False),
    Column("state", Text),
    Column("nonce", Text),
    Column("code_challenge", String(128)),
    Column("code_challenge_method", String(16)),
    Column("prompt", String(64)),
    Column("max_age", Integer),
    Column("flow_id", String(64), nullable=False),
    Column("expires_at", Float, nullable=False),
    Column("response_type", String(32), nullable=False, server_default="code"),
    Column("resources", Text, nullable=False, server_default=""),  # RFC 8707: space-separated
)

codes = Table(
    "codes",
    metadata,
    Column("code_hash", String(64), primary_key=True),
    Column("client_id", String(255), nullable=False),
    Column("user_id", Integer, nullable=False),
    Column("redirect_uri", Text, nullable=False),
    Column("scope", Text, nullable=False),
    Column("nonce", Text),
    Column("code_challenge", String(128)),
    Column("code_challenge_method", String(16)),
    Column("auth_time", Float, nullable=False),
    Column("flow_id", String(64), nullable=False),
    Column("expires_at", Float, nullable=False),
    Column("used_at", Float),
    Column("grant_id", String(64)),
    Column("resources", Text, nullable=False, server_default=""),  # RFC 8707: authorized
)

grants = Table(
    "grants",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("client_id", String(255), nullable=False),
    Column("user_id", Integer),
    Column("scope", Text, nullable=False),
    Column("flow_id", String(64)),
    Column("created_at", Float, nullable=False),
    Column("revoked_at", Float),
    Index("ix_grants_user_client", "user_id", "client_id"),
)

tokens = Table(
    "tokens",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("kind", String(16), nullable=False),
    Column("grant_id", String(64)),
    Column("client_id", String(255), nullable=False),
    Column("user_id", Integer),
    Column("scope", Text, nullable=False),
    Column("created_at", Float, nullable=False),
    Column("expires_at", Float, nullable=False),
    Column("revoked_at", Float),
    Column("used_at", Float),
    Column("jkt", String(64)),
    # RFC 8707: an access token's audience; a refresh token's authorized resources
    Column("resources", Text, nullable=False, server_default=""),
    Index("ix_tokens_grant", "grant_id"),
)

flows = Table(
    "flows",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("client_id", String(255), nullable=False),
    Column("user_id", Integer),
    Column("started_at", Float, nullable=False),
    Column("updated_at", Float, nullable=False),
    Column("outcome", String(16), nullable=False),
    Column("failed_checks", Integer, nullable=False),
)

flow_events = Table(
    "flow_events",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("flow_id", String(64), nullable=False),
    Column("at", Float, nullable=False),
    Column("step", String(40), nullable=False),
    Column("sender", String(24), nullable=False),
    Column("receiver", String(24), nullable=False),
    Column("channel", String(8), nullable=False),
    Column("summary", Text, nullable=False),
    Column("params", Text, nullable=False),
    Column("checks", Text, nullable=False),
    Column("carried_password", Boolean, nullable=False),
    Index("ix_flow_events_flow", "flow_id"),
)

device_codes = Table(  # revision 0007: RFC 8628 device authorization
    "device_codes",
    metadata,
    Column("device_code_hash", String(64), primary_key=True),
    Column("user_code", String(16), nullable=False, unique=True),
    Column("client_id", String(255), nullable=False),
    Column("scope", Text, nullable=False),
    Column("flow_id", String(64), nullable=False),
    Column("expires_at", Float, nullable=False),
    Column("poll_interval", Integer, nullable=False),
    Column("last_polled_at", Float),
    Column("status", String(16), nullable=False),
    Column("user_id", Integer),
    Column("auth_time", Float),
)

dpop_proofs = Table(  # revision 0009: DPoP proof jtis seen, shared by instances (RFC 9449 §11.1)
    "dpop_proofs",
    metadata,
    Column("jti_hash", String(64), primary_key=True),
    Column("expires_at", Float, nullable=False),
    Index("ix_dpop_proofs_expires_at", "expires_at"),
)

queued_claims = Table(  # revision 0009: claims for a user's or client's next token, shared
    "queued_claims",
    metadata,
    Column("kind", String(16), primary_key=True),
    Column("name", String(255), primary_key=True),
    Column("claims", Text, nullable=False),  # a JSON object
)

injected_faults = Table(  # revision 0010: faults injected by the admin API, shared by instances
    "injected_faults",
    metadata,
    Column("path_hash", String(64), primary_key=True),  # SHA-256 of the path: any length fits
    Column("path", Text, nullable=False),
    Column("remaining", Integer, nullable=False),
    Column("status", Integer, nullable=True),
    Column("delay", Float, nullable=False),
    Column("malformed", Boolean, nullable=False),
)

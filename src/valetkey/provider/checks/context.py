"""What the checks of each endpoint read and fill in as they pass.

A context is narrow and typed: the request's parameters, the time, and the rows the
endpoint's loader read from the store before the table runs (the client a request names,
the code or refresh token it presents). Checks never reach the store; what they want done to
it (revoking a grant whose code was replayed, say) they append to `actions`, which the
endpoint performs after the table, in the request's one transaction.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from valetkey.oauth.scope import Scope
from valetkey.provider.http import Params, Request
from valetkey.provider.response_modes import CODE, QUERY
from valetkey.provider.store.records import Client, Code, Token


@dataclass(frozen=True)
class RevokeGrant:
    """Revoke a grant and every token issued under it (RFC 6749 §4.1.2, RFC 9700 §4.14.2)."""

    grant_id: str


@dataclass(frozen=True)
class RevokeToken:
    """Revoke one token (RFC 7009 §2.1)."""

    token_id: str


Action = RevokeGrant | RevokeToken


@dataclass
class AuthorizeContext:
    params: Params
    now: float
    named_client: Client | None = None  # loaded: the client the single client_id names
    client: Client | None = None
    redirect_uri: str | None = None
    scopes: Scope = field(default_factory=Scope)
    prompt: frozenset[str] = frozenset()
    max_age: int | None = None
    # what response_type and response_mode asked for, once checked; until then the strict
    # default, so a check that runs early never skips PKCE by mistake
    response_types: frozenset[str] = CODE
    response_mode: str = QUERY

    @property
    def returns_code(self) -> bool:
        return "code" in self.response_types


class ProofIds(Protocol):
    """The DPoP proof ids seen lately (RFC 9449 §11.1): True the first time an id is used."""

    def first_use(self, jti: str, now: float) -> bool: ...


@dataclass
class DpopInputs:
    """What checking a DPoP proof needs besides the request: the server's origin (for
    `htu`) and the proof ids it has seen."""

    origin: str
    replay: ProofIds


@dataclass
class TokenContext:
    request: Request
    now: float
    dpop: DpopInputs | None = None
    named_client: Client | None = None  # loaded: the client the credentials name
    presented_code: Code | None = None  # loaded: the code presented, looked up by its hash
    presented_refresh: tuple[Token, float | None] | None = None  # loaded, with grant revocation
    presented_token: tuple[Token, float | None] | None = None  # revocation, introspection
    client: Client | None = None
    auth_method: str = "none"
    grant_type: str = ""
    code: Code | None = None
    refresh: Token | None = None
    scopes: Scope = field(default_factory=Scope)
    notes: list[str] = field(default_factory=list)
    dpop_jkt: str | None = None  # set when a valid DPoP proof came with the request
    actions: list[Action] = field(default_factory=list)

    @property
    def params(self) -> Params:
        return self.request.form


@dataclass
class BearerContext:
    """A request to the resource server or userinfo, and the access token it presents."""

    request: Request
    now: float
    dpop: DpopInputs
    required_scope: str | None = None  # what the resource needs, if anything
    found: tuple[Token, float | None] | None = None  # loaded: the stored token, if any
    value: str = ""
    token: Token | None = None


@dataclass
class FormContext:
    """A form posted to one of the sandbox's pages (login, consent, logout).

    `expected_csrf` is the token this browser session and this request should carry, which
    only the server can compute (an HMAC under its key); `fresh_browser` says the browser
    came without a browser id this server issued. `password_ok` is filled in by the login
    page once the password was verified (in a worker thread), before its second table runs.
    """

    form: Params
    fresh_browser: bool
    expected_csrf: str
    signed_in: bool
    password_ok: bool | None = None


@dataclass
class AdminContext:
    """A request to the admin API and the admin token the sandbox was started with."""

    request: Request
    admin_token: str


@dataclass
class ResponseContext:
    """An authorization response about to leave, and the issuer it must name."""

    params: dict[str, str | None]
    issuer: str

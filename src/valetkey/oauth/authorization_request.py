"""The authorization request (RFC 6749 §4.1.1, RFC 7636 §4.3, OIDC Core §3.1.2.1) as a value,
and the URL that carries it.

`AuthorizationRequest.url()` keeps any query the authorization endpoint already has, as
RFC 6749 §3.1 requires, and leaves out parameters that are `None`.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from valetkey.oauth.pkce import Pkce
from valetkey.oauth.scope import Scope

STATE_BYTES = 32  # 256 bits; RFC 6749 §10.10 asks for a guess probability of 2^-128 or less


@dataclass(frozen=True)
class AuthorizationRequest:
    client_id: str
    redirect_uri: str
    scope: Scope
    state: str | None
    nonce: str | None = None
    code_challenge: str | None = None
    code_challenge_method: str | None = None
    response_type: str = "code"
    extra: Mapping[str, str | None] = field(default_factory=dict)

    @classmethod
    def fresh(
        cls,
        client_id: str,
        redirect_uri: str,
        scope: Scope,
        *,
        pkce: Pkce | None = None,
        nonce: bool = True,
    ) -> AuthorizationRequest:
        """A new request with a random state (and nonce), and `pkce`'s S256 challenge."""
        return cls(
            client_id=client_id,
            redirect_uri=redirect_uri,
            scope=scope,
            state=secrets.token_urlsafe(STATE_BYTES),
            nonce=secrets.token_urlsafe(STATE_BYTES) if nonce else None,
            code_challenge=pkce.challenge if pkce else None,
            code_challenge_method=pkce.method if pkce else None,
        )

    def params(self, **overrides: str | None) -> dict[str, str]:
        """The query parameters in a stable order; `overrides` replace or add parameters, and
        an override of `None` removes one (how a probe builds a deliberately broken request)."""
        values: dict[str, str | None] = {
            "response_type": self.response_type,
            "client_id": self.client_id,
            "redirect_uri": self.redirect_uri,
            "scope": str(self.scope) if self.scope else None,
            "state": self.state,
            "nonce": self.nonce,
            "code_challenge": self.code_challenge,
            "code_challenge_method": self.code_challenge_method,
            **self.extra,
            **overrides,
        }
        return {name: value for name, value in values.items() if value is not None}

    def url(self, endpoint: str, **overrides: str | None) -> str:
        return add_query(endpoint, self.params(**overrides))


def add_query(url: str, params: Mapping[str, str]) -> str:
    """`url` with `params` added to its query; what the query held stays (RFC 6749 §3.1)."""
    parts = urlsplit(url)
    pairs = [*parse_qsl(parts.query, keep_blank_values=True), *params.items()]
    return urlunsplit((parts.scheme, parts.netloc, parts.path, urlencode(pairs), parts.fragment))

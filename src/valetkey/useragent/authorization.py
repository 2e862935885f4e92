"""The agent in the client's part: the authorization request it starts a flow with, and
the secrets it keeps for the token request (tests of a server drive both sides at once)."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import parse_qs, urlsplit

from valetkey.oauth.authorization_request import AuthorizationRequest
from valetkey.oauth.pkce import Pkce
from valetkey.oauth.scope import Scope


@dataclass(frozen=True)
class Authorization:
    """An authorization request the agent built, with the secrets it keeps for later."""

    verifier: str
    state: str
    nonce: str
    params: dict[str, str]


@dataclass(frozen=True)
class ClientRequest:
    """The client the agent speaks for when it starts a flow itself."""

    client_id: str
    redirect_uri: str
    scope: str = "openid"

    def authorization(self, **overrides: str | None) -> Authorization:
        """An authorization-code request with a fresh state, nonce and PKCE S256 challenge;
        an override replaces a parameter, and one of None leaves it out."""
        pkce = Pkce.new()
        request = AuthorizationRequest.fresh(
            self.client_id, self.redirect_uri, Scope.parse(self.scope), pkce=pkce
        )
        assert request.state is not None and request.nonce is not None
        return Authorization(
            pkce.verifier, request.state, request.nonce, request.params(**overrides)
        )


def query_of(url: str) -> dict[str, str]:
    """A URL's query as a dict (the first value of each name)."""
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}

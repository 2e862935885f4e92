"""What the server checks share: the target's metadata, a logged-in browser, and helpers to
get a code, redeem it, and call the token endpoint the way a client would."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import httpx

from valetkey.oauth.authorization_request import AuthorizationRequest, add_query
from valetkey.oauth.pkce import Pkce
from valetkey.oauth.redirect_uris import is_loopback
from valetkey.oauth.scope import Scope
from valetkey.probe.confine import RUN_SECONDS, TIMEOUT, ConfinedTransport, origin_of
from valetkey.useragent.agent import AgentError, UserAgent


class ProbeError(RuntimeError):
    """A step a check needs did not work; the check is then n/a or fails, as it decides."""

    def __init__(self, message: str, response: httpx.Response | None = None) -> None:
        super().__init__(message)
        self.response = response


@dataclass(frozen=True)
class Target:
    issuer: str
    client_id: str
    redirect_uri: str
    client_secret: str | None = None
    public_client_id: str | None = None
    username: str | None = None
    password: str | None = None
    scope: str = "openid"


@dataclass
class Grant:
    code: str
    verifier: str | None
    state: str
    nonce: str
    query: dict[str, str]


@dataclass
class ProbeSession:
    target: Target
    seconds: float = RUN_SECONDS  # the whole run's deadline
    meta: dict[str, Any] = field(default_factory=dict)
    agent: UserAgent | None = None
    notes: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.transport = ConfinedTransport(self.target.issuer, self.seconds)
        self.http = httpx.Client(timeout=TIMEOUT, transport=self.transport)

    def open(self) -> None:
        self.meta = self._discovery()
        self._allow_named_origins()
        if self.target.username and self.target.password:
            self.agent = UserAgent(
                self.target.username,
                self.target.password,
                timeout=TIMEOUT,
                transport=self.transport,
            )

    def _discovery(self) -> dict[str, Any]:
        """The metadata (OIDC discovery, else RFC 8414), or {} with a note saying why."""
        issuer = self.target.issuer.rstrip("/")
        problem = "no discovery document"
        for path in (
            "/.well-known/openid-configuration",
            "/.well-known/oauth-authorization-server",
        ):
            try:
                response = self.http.get(issuer + path)
            except httpx.HTTPError as exc:
                problem = f"discovery failed: {exc}"
                continue
            if response.status_code != 200:
                continue
            try:
                data = response.json()
            except ValueError:
                problem = f"{path} is not JSON"
                continue
            if isinstance(data, dict) and all(isinstance(k, str) for k in data):
                return data
            problem = f"{path} is not a JSON object"
        self.notes.append(f"{problem}: the checks that need metadata are n/a")
        return {}

    def _allow_named_origins(self) -> None:
        """Endpoints the metadata puts on another origin are probed, after a warning; the
        client secret still goes to the issuer's origin only."""
        for name, value in sorted(self.meta.items()):
            if not (name.endswith("_endpoint") or name == "jwks_uri") or not isinstance(value, str):
                continue
            if urlsplit(value).scheme in ("http", "https") and self.transport.allow(value):
                self.notes.append(
                    f"warning: the metadata puts {name} on {origin_of(value)}, not the "
                    "issuer's origin; probed there, without the client secret"
                )

    def close(self) -> None:
        self.http.close()
        if self.agent is not None:
            self.agent.close()

    @property
    def loopback(self) -> bool:
        return is_loopback(urlsplit(self.target.issuer).hostname or "")

    def endpoint(self, name: str) -> str:
        value = self.meta.get(name)
        if not isinstance(value, str):
            raise ProbeError(f"the metadata has no {name}")
        return value

    def can_log_in(self) -> bool:
        return self.agent is not None and bool(self.meta)

    # -- the front channel ------------------------------------------------------------------

    def params(self, pkce: bool = True, **overrides: str | None) -> tuple[dict[str, str], str]:
        pair = Pkce.new()
        request = AuthorizationRequest.fresh(
            self.target.client_id,
            self.target.redirect_uri,
            Scope.lenient(self.target.scope),
            pkce=pair if pkce else None,
        )
        return request.params(**overrides), pair.verifier

    def authorize_url(self, params: dict[str, str]) -> str:
        return add_query(self.endpoint("authorization_endpoint"), params)

    def front(self, params: dict[str, str]) -> tuple[str | None, httpx.Response]:
        """Open the authorization URL in the logged-in browser; stop where it would leave
        the provider for the client (or for anywhere else). Returns that URL, if any."""
        assert self.agent is not None
        issuer_origin = _origin(self.endpoint("authorization_endpoint"))
        try:
            visit = self.agent.navigate(
                self.authorize_url(params), stop_at=lambda url: _origin(url) != issuer_origin
            )
        except AgentError as exc:
            raise ProbeError(f"the browser could not go on: {exc}") from None
        return visit.stopped_at, visit.response

    def code(self, pkce: bool = True, **overrides: str | None) -> Grant:
        params, verifier = self.params(pkce=pkce, **overrides)
        stopped, response = self.front(params)
        if stopped is None or not stopped.startswith(self.target.redirect_uri.split("?")[0]):
            raise ProbeError("no redirect back to the client", response)
        query = dict(httpx.URL(stopped).params)
        if "code" not in query:
            raise ProbeError(f"no code: {query.get('error', 'no error either')}", response)
        challenge_verifier = verifier if pkce else None
        return Grant(
            query["code"],
            challenge_verifier,
            params.get("state", ""),
            params.get("nonce", ""),
            query,
        )

    # -- the back channel -------------------------------------------------------------------

    def token(
        self,
        data: dict[str, str],
        auth: bool = True,
        client: tuple[str, str | None] | None = None,
        **kwargs: Any,
    ) -> httpx.Response:
        client_id, secret = client or (self.target.client_id, self.target.client_secret)
        if auth and secret is not None:
            kwargs["auth"] = (client_id, secret)
        elif auth:
            data = {**data, "client_id": client_id}
        return self.http.post(self.endpoint("token_endpoint"), data=data, **kwargs)

    def redeem(self, grant: Grant, **extra: str | None) -> httpx.Response:
        data: dict[str, str | None] = {
            "grant_type": "authorization_code",
            "code": grant.code,
            "redirect_uri": self.target.redirect_uri,
            "code_verifier": grant.verifier,
        }
        data.update(extra)
        return self.token({k: v for k, v in data.items() if v is not None})

    def tokens(self) -> dict[str, Any]:
        grant = self.code()
        response = self.redeem(grant)
        if response.status_code != 200:
            raise ProbeError("the code could not be redeemed", response)
        return {**response.json(), "_grant": grant}

    def token_works(self, access_token: str) -> bool:
        """Is this access token still accepted (userinfo, else introspection)?"""
        userinfo = self.meta.get("userinfo_endpoint")
        if isinstance(userinfo, str):
            answer = self.http.get(userinfo, headers={"authorization": f"Bearer {access_token}"})
            return answer.status_code == 200
        introspection = self.meta.get("introspection_endpoint")
        if isinstance(introspection, str) and self.target.client_secret:
            answer = self.http.post(
                introspection,
                data={"token": access_token},
                auth=(self.target.client_id, self.target.client_secret),
            )
            return bool(answer.json().get("active"))
        raise ProbeError("neither userinfo nor introspection to test a token with")


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.hostname}:{parts.port}"

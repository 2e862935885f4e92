"""What the checks of each endpoint read and fill in as they pass."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from valetkey.oauth.scope import Scope
from valetkey.provider.http import Params, Request
from valetkey.provider.store.records import Client, Code, Token

if TYPE_CHECKING:
    from valetkey.provider.core import Provider


@dataclass
class AuthorizeContext:
    provider: Provider
    params: Params
    client: Client | None = None
    redirect_uri: str | None = None
    scopes: Scope = field(default_factory=Scope)
    prompt: frozenset[str] = frozenset()
    max_age: int | None = None


@dataclass
class TokenContext:
    provider: Provider
    request: Request
    client: Client | None = None
    auth_method: str = "none"
    grant_type: str = ""
    code: Code | None = None
    refresh: Token | None = None
    scopes: Scope = field(default_factory=Scope)
    notes: list[str] = field(default_factory=list)
    dpop_jkt: str | None = None  # set when a valid DPoP proof came with the request

    @property
    def params(self) -> Params:
        return self.request.form

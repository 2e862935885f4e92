"""What the checks of each endpoint read and fill in as they pass."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from valetkey.provider.http import Params, Request
from valetkey.provider.response_modes import CODE, QUERY
from valetkey.provider.store.records import Client, Code, Token

if TYPE_CHECKING:
    from valetkey.provider.core import Provider


@dataclass
class AuthorizeContext:
    provider: Provider
    params: Params
    client: Client | None = None
    redirect_uri: str | None = None
    scopes: tuple[str, ...] = ()
    prompt: frozenset[str] = frozenset()
    max_age: int | None = None
    # what response_type and response_mode asked for, once checked; until then the strict
    # default, so a check that runs early never skips PKCE by mistake
    response_types: frozenset[str] = CODE
    response_mode: str = QUERY

    @property
    def returns_code(self) -> bool:
        return "code" in self.response_types


@dataclass
class TokenContext:
    provider: Provider
    request: Request
    client: Client | None = None
    auth_method: str = "none"
    grant_type: str = ""
    code: Code | None = None
    refresh: Token | None = None
    scopes: tuple[str, ...] = ()
    notes: list[str] = field(default_factory=list)
    dpop_jkt: str | None = None  # set when a valid DPoP proof came with the request

    @property
    def params(self) -> Params:
        return self.request.form

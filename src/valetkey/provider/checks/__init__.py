"""Request validation as small, registered checks, run from one ordered table per endpoint.

A check is a function that takes the endpoint's context and raises an `OAuthError` when the
request breaks the rule; its docstring's first line is its title and the rest its
documentation. `check()` tags it with its id in the check catalogue (`valetkey.catalogue`;
empty where the catalogue has none; an id the catalogue lacks fails at import), the clause
it enforces, and what it reads and fills in of the context: `needs` names the
fields an earlier check (or the endpoint's loader) must have set, `sets` the fields it sets.
A check about one optional request header (a DPoP proof, say) names it as `header`: a
request without that header passes it without the check being called; a check about one
optional parameter (RFC 8707's `resource`) names it as `param`, likewise.

A `Table` is the ordered list an endpoint runs. It is checked when it is built, at import:
a check that needs a field nothing before it sets is a `TableError` naming both, never a
500 at request time. Lab switches change tables with `replace`, `drop` and `wrap`, which
build a new table checked the same way (see `valetkey.provider.lab`).

Checks are sans-I/O: the context holds what they read (loaded before the table runs) and
collects the side effects they ask for (`actions`), which the endpoint performs after it.
Every result goes to the flow record and every registered check is listed at
`/inspector/checks`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Generic, Protocol, TypeVar, cast

from valetkey import catalogue
from valetkey.oauth.scope import Scope
from valetkey.provider.errors import OAuthError
from valetkey.provider.http import Params, Request
from valetkey.provider.response_modes import CODE, QUERY
from valetkey.provider.store.records import Client, Code, DeviceCode, Resource, Token

log = logging.getLogger("valetkey.provider")

C = TypeVar("C")


@dataclass(frozen=True)
class Check(Generic[C]):
    id: str
    clause: str
    title: str
    doc: str
    run: Callable[[C], None] = field(compare=False)
    needs: frozenset[str] = frozenset()
    sets: frozenset[str] = frozenset()
    slot: str = ""  # the place in a table it fills: its own name, or the check it wraps
    header: str = ""  # the optional request header the check judges; absent, it passes
    param: str = ""  # the optional parameter the check judges; absent, it passes

    @property
    def name(self) -> str:
        return f"{self.run.__module__.rsplit('.', 1)[-1]}.{self.run.__name__}"

    def __post_init__(self) -> None:
        if not self.slot:
            object.__setattr__(self, "slot", self.name)

    @cached_property
    def passed(self) -> CheckResult:
        """Its result when it passes: the same for every request, so made once."""
        return CheckResult(self.id, self.clause, self.title, True)

    def wrapped(self, title: str, doc: str, run: Callable[[C], None]) -> Check[C]:
        """Another check in this one's slot (a lab switch's variant), with its id and clause."""
        return Check(
            self.id,
            self.clause,
            title,
            doc,
            run,
            self.needs,
            self.sets,
            self.slot,
            self.header,
            self.param,
        )


REGISTRY: list[Check[object]] = []


def check(
    check_id: str,
    clause: str,
    *,
    needs: Iterable[str] = (),
    sets: Iterable[str] = (),
    header: str = "",
    param: str = "",
) -> Callable[[Callable[[C], None]], Check[C]]:
    """Register a check under its catalogue id and clause, with what it needs and sets, and
    the optional request header (lower case) or parameter it judges, if that is all it
    judges."""

    def register(func: Callable[[C], None]) -> Check[C]:
        if check_id:
            catalogue.require(check_id, catalogue.Family.AS, f"provider check {func.__name__}")
        doc = (func.__doc__ or func.__name__).strip()
        title = doc.splitlines()[0].rstrip(".")
        registered: Check[C] = Check(
            check_id,
            clause,
            title,
            doc,
            func,
            frozenset(needs),
            frozenset(sets),
            header=header,
            param=param,
        )
        REGISTRY.append(registered)  # type: ignore[arg-type]
        return registered

    return register


class TableError(Exception):
    """A table whose checks are in an order that cannot work (found at import time)."""


@dataclass(frozen=True)
class Table(Generic[C]):
    """An endpoint's checks in order; `given` is what its loader fills in before they run."""

    name: str
    checks: tuple[Check[C], ...]
    given: frozenset[str] = frozenset()

    def __post_init__(self) -> None:
        available = set(self.given)
        for item in self.checks:
            missing = item.needs - available
            if missing:
                raise TableError(
                    f"table {self.name!r}: {item.name} needs {', '.join(sorted(missing))}, "
                    "which no check before it sets"
                )
            available |= item.sets

    @classmethod
    def of(cls, name: str, checks: Sequence[Check[C]], given: Iterable[str] = ()) -> Table[C]:
        return cls(name, tuple(checks), frozenset(given))

    def __iter__(self) -> Iterator[Check[C]]:
        return iter(self.checks)

    def __add__(self, other: Table[C]) -> Table[C]:
        return Table(self.name, self.checks + other.checks, self.given)

    def _index(self, target: Check[C]) -> int:
        for i, item in enumerate(self.checks):
            if item.slot == target.slot:
                return i
        raise TableError(f"table {self.name!r} has no check {target.slot}")

    def replace(self, target: Check[C], by: Check[C]) -> Table[C]:
        i = self._index(target)
        return Table(self.name, (*self.checks[:i], by, *self.checks[i + 1 :]), self.given)

    def drop(self, target: Check[C]) -> Table[C]:
        i = self._index(target)
        return Table(self.name, (*self.checks[:i], *self.checks[i + 1 :]), self.given)

    def wrap(self, target: Check[C], wrapper: Callable[[Check[C]], Check[C]]) -> Table[C]:
        """Put `wrapper(check)` where the check in `target`'s slot is (whatever wraps it)."""
        return self.replace(target, wrapper(self.checks[self._index(target)]))

    def has(self, target: Check[C]) -> bool:
        return any(item.slot == target.slot for item in self.checks)

    def run(self, ctx: C, results: list[CheckResult]) -> None:
        run_checks(self.checks, ctx, results)


@dataclass(frozen=True)
class CheckResult:
    id: str
    clause: str
    title: str
    passed: bool
    detail: str = ""

    def as_dict(self) -> dict[str, str]:
        return {
            "id": self.id,
            "clause": self.clause,
            "title": self.title,
            "result": "pass" if self.passed else "fail",
            "detail": self.detail,
        }


def result_of(item: Check[C], passed: bool, detail: str = "") -> CheckResult:
    return CheckResult(item.id, item.clause, item.title, passed, detail)


class _HasRequest(Protocol):
    request: Request


class _HasParams(Protocol):
    @property
    def params(self) -> Params: ...


def _absent(item: Check[C], ctx: C) -> bool:
    """The optional header or parameter the check judges was not sent."""
    if item.header:
        return item.header not in cast(_HasRequest, ctx).request.headers
    return bool(item.param) and cast(_HasParams, ctx).params.get(item.param) is None


def run_checks(table: Sequence[Check[C]], ctx: C, results: list[CheckResult]) -> None:
    """Run each check in order; record it; re-raise the first failure, tagged with its id."""
    for item in table:
        if (item.header or item.param) and _absent(item, ctx):
            results.append(item.passed)  # nothing of what it judges was sent
            continue
        try:
            item.run(ctx)
        except OAuthError as exc:
            exc.check_id = exc.check_id or item.id
            results.append(result_of(item, False, exc.description))
            if exc.detail:  # the log's part only: never shown to the browser or client
                log.info("check %s failed: %s (%s)", item.id or item.slot, exc.error, exc.detail)
            raise
        results.append(item.passed)


# The contexts: what each endpoint's checks read and fill in as they pass. A context is
# narrow and typed: the request's parameters, the time, and the rows the endpoint's loader
# read from the store before the table runs (the client a request names, the code or refresh
# token it presents). Checks never reach the store; what they want done to it (revoking a
# grant whose code was replayed, say) they append to `actions`, which the endpoint performs
# after the table, in the request's one transaction.


@dataclass(frozen=True)
class RevokeGrant:
    """Revoke a grant and every token issued under it (RFC 6749 §4.1.2, RFC 9700 §4.14.2)."""

    grant_id: str


@dataclass(frozen=True)
class RevokeToken:
    """Revoke one token (RFC 7009 §2.1)."""

    token_id: str


@dataclass(frozen=True)
class RecordPoll:
    """Note a device's poll and the interval it must now keep (RFC 8628 §3.5)."""

    device_code_hash: str
    interval: int


Action = RevokeGrant | RevokeToken | RecordPoll


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
    # RFC 8707: loaded, the registered resources the `resource` values name (by canonical
    # URI); set, the canonical resources the request names, once checked
    named_resources: dict[str, Resource] = field(default_factory=dict)
    resources: tuple[str, ...] = ()

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


@dataclass(frozen=True)
class Credentials:
    """The client credentials a back-channel request presents (RFC 6749 §2.3), read once:
    `method` is client_secret_basic, client_secret_post or none; `problem`, when they cannot
    be read (two methods at once, bad Basic encoding), is what authenticating them raises."""

    client_id: str
    secret: str | None
    method: str
    problem: OAuthError | None = None


@dataclass
class TokenContext:
    request: Request
    now: float
    dpop: DpopInputs | None = None
    credentials: Credentials | None = None  # loaded: what the request presents
    named_client: Client | None = None  # loaded: the client the credentials name
    presented_code: Code | None = None  # loaded: the code presented, looked up by its hash
    presented_refresh: tuple[Token, float | None] | None = None  # loaded, with grant revocation
    presented_token: tuple[Token, float | None] | None = None  # revocation, introspection
    presented_device: DeviceCode | None = None  # loaded: the device code presented (RFC 8628)
    client: Client | None = None
    auth_method: str = "none"
    grant_type: str = ""
    code: Code | None = None
    refresh: Token | None = None
    device: DeviceCode | None = None
    scopes: Scope = field(default_factory=Scope)
    notes: list[str] = field(default_factory=list)
    dpop_jkt: str | None = None  # set when a valid DPoP proof came with the request
    # RFC 8707: loaded, the registered resources the `resource` values name; set, the
    # audience asked for (None: no `resource` sent, so all the grant's resources)
    named_resources: dict[str, Resource] = field(default_factory=dict)
    resources: tuple[str, ...] | None = None
    access_scopes: Scope | None = None  # the access token's scope, cut to those resources
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

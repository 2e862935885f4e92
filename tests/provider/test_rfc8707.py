"""The RFC 8707 checks on hand-built contexts: each one's failing and passing case, and the
`param` rule that skips them when no `resource` is sent."""

from __future__ import annotations

from urllib.parse import urlencode

import pytest

from tests.provider.test_check_tables import CLIENT, NOW, _code, _token_request
from valetkey.oauth.scope import Scope
from valetkey.provider import grants
from valetkey.provider.checks import (
    AuthorizeContext,
    CheckResult,
    TokenContext,
    rfc8707,
    run_checks,
)
from valetkey.provider.endpoints import authorize
from valetkey.provider.errors import InvalidScope, InvalidTarget
from valetkey.provider.http import Params
from valetkey.provider.store.records import Resource, Token

MCP = Resource("http://127.0.0.1:8790/mcp", "MCP", frozenset({"photos.read", "photos.print"}))
API = Resource("https://api.example/v1", "API", frozenset({"photos.read"}))
NAMED = {MCP.uri: MCP, API.uri: API}


def _authorize(*resources: str, scope: str = "openid photos.read") -> AuthorizeContext:
    pairs = [("resource", r) for r in resources]
    ctx = AuthorizeContext(Params.parse(urlencode(pairs)), NOW, named_resources=NAMED)
    ctx.client, ctx.scopes = CLIENT, Scope.parse(scope)
    return ctx


def test_registered_resources_are_kept_canonical_and_once() -> None:
    ctx = _authorize("HTTP://127.0.0.1:8790/mcp", MCP.uri, API.uri)
    rfc8707.resources_registered.run(ctx)
    assert ctx.resources == (MCP.uri, API.uri)


@pytest.mark.parametrize(
    ("value", "description"),
    [
        ("https://other.example/x", "resource is not registered at this server"),
        ("/mcp", "resource must be an absolute https URL"),
        ("http://127.0.0.1:8790/mcp#top", "resource must not contain a fragment (RFC 8707 §2)"),
        ("http://127.0.0.1:8790/mcp?a=b", "resource must not contain a query (RFC 8707 §2)"),
    ],
)
def test_an_unknown_or_malformed_resource_is_invalid_target(value: str, description: str) -> None:
    with pytest.raises(InvalidTarget) as raised:
        rfc8707.resources_registered.run(_authorize(value))
    assert raised.value.description.startswith(description)
    assert raised.value.error == "invalid_target"


def test_at_most_ten_resources() -> None:
    with pytest.raises(InvalidTarget, match="at most 10"):
        rfc8707.resources_registered.run(_authorize(*[MCP.uri] * 11))


def test_scopes_must_be_served_by_a_named_resource() -> None:
    ok = _authorize(API.uri, scope="openid profile email offline_access photos.read")
    ok.resources = (API.uri,)
    rfc8707.scopes_served_by_resources.run(ok)  # the server's own scopes need no resource
    refused = _authorize(API.uri, scope="openid photos.print")
    refused.resources = (API.uri,)
    with pytest.raises(InvalidScope, match=r"no resource named serves the scope: photos\.print"):
        rfc8707.scopes_served_by_resources.run(refused)
    both = _authorize(API.uri, MCP.uri, scope="photos.print")
    both.resources = (API.uri, MCP.uri)
    rfc8707.scopes_served_by_resources.run(both)  # one of them is enough


def test_without_resource_the_authorize_checks_are_not_called() -> None:
    ctx = AuthorizeContext(Params.parse("scope=openid"), NOW)
    results: list[CheckResult] = []
    table = authorize.REDIRECT_CHECKS
    checks = [c for c in table if c.param == "resource"]
    assert [c.name for c in checks] == [
        "rfc8707.resources_registered",
        "rfc8707.scopes_served_by_resources",
    ]
    run_checks(checks, ctx, results)  # would fail on an empty context if they ran
    assert [r.passed for r in results] == [True, True]
    assert ctx.resources == ()


def _token(form: str, **fields: object) -> TokenContext:
    ctx = TokenContext(_token_request(form), NOW, named_resources=NAMED)
    for name, value in fields.items():
        setattr(ctx, name, value)
    return ctx


def test_the_code_exchange_narrows_to_an_authorized_resource() -> None:
    code = _code(scope="openid photos.read photos.print", resources=f"{MCP.uri} {API.uri}")
    ctx = _token(f"resource={API.uri}", code=code)
    rfc8707.code_resources_authorized.run(ctx)
    assert ctx.resources == (API.uri,)
    assert str(ctx.access_scopes) == "openid photos.read"


@pytest.mark.parametrize("authorized", ["", "http://127.0.0.1:8790/mcp"])
def test_a_resource_the_code_did_not_authorize_is_invalid_target(authorized: str) -> None:
    ctx = _token(f"resource={API.uri}", code=_code(resources=authorized))
    with pytest.raises(InvalidTarget, match="not authorized for this grant"):
        rfc8707.code_resources_authorized.run(ctx)


def _refresh(resources: str) -> Token:
    return Token(
        "t",
        "refresh",
        "g",
        "app",
        1,
        "openid photos.read photos.print",
        NOW,
        NOW + 60,
        None,
        None,
        resources=resources,
    )


def test_refresh_narrows_and_never_widens() -> None:
    held = _refresh(MCP.uri)
    scopes = Scope.parse("openid photos.read photos.print")
    ctx = _token(f"resource={MCP.uri}", refresh=held, scopes=scopes)
    rfc8707.refresh_resources_within_grant.run(ctx)
    assert (ctx.resources, str(ctx.access_scopes)) == ((MCP.uri,), str(scopes))
    widened = _token(f"resource={API.uri}", refresh=held, scopes=scopes)
    with pytest.raises(InvalidTarget):
        rfc8707.refresh_resources_within_grant.run(widened)


def test_refresh_refuses_an_explicit_scope_the_resources_do_not_serve() -> None:
    held = _refresh(f"{MCP.uri} {API.uri}")
    ctx = _token(
        f"resource={API.uri}&scope=photos.print", refresh=held, scopes=Scope.parse("photos.print")
    )
    with pytest.raises(InvalidScope, match=r"photos\.print"):
        rfc8707.refresh_resources_within_grant.run(ctx)


def test_the_grant_tables_hold_the_resource_checks_last() -> None:
    code_table = grants.GRANT_TYPES["authorization_code"].checks
    refresh_table = grants.GRANT_TYPES["refresh_token"].checks
    assert code_table.checks[-1] is rfc8707.code_resources_authorized
    assert refresh_table.checks[-1] is rfc8707.refresh_resources_within_grant

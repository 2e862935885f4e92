"""The check pipeline without sockets: tables checked at import, lab switches as table
changes, and the sans-I/O checks of each endpoint run on contexts built by hand."""

from __future__ import annotations

from dataclasses import replace

import pytest

from valetkey.oauth.client_metadata import client_metadata
from valetkey.provider import grants, lab
from valetkey.provider.checks import (
    REGISTRY,
    AuthorizeContext,
    BearerContext,
    Check,
    CheckResult,
    DpopInputs,
    FormContext,
    RevokeGrant,
    Table,
    TableError,
    TokenContext,
    check,
    csrf,
    oidc,
    rfc6749,
    rfc6750,
    rfc7636,
    rfc9700,
)
from valetkey.provider.checks.rfc9449 import ReplayCache
from valetkey.provider.endpoints import authorize, revocation, token
from valetkey.provider.errors import (
    InsufficientScope,
    InvalidClient,
    InvalidGrant,
    InvalidRequest,
    InvalidScope,
    InvalidToken,
    MissingToken,
    OAuthError,
    PageError,
)
from valetkey.provider.http import Params, Request
from valetkey.provider.lab import LabSwitch
from valetkey.provider.store.records import Client, Code, Resource, Token
from valetkey.provider.tokens import digest

REDIRECT = "http://127.0.0.1:8500/callback"
CHALLENGE = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"  # RFC 7636 Appendix B
VERIFIER = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
NOW = 1_000_000.0

CLIENT = Client.registered(
    client_metadata(
        client_id="app", name="App", redirect_uris=(REDIRECT,), scope="openid profile photos.read"
    ),
    digest("s3cret"),
)


def _authorize(query: str, client: Client | None = CLIENT) -> AuthorizeContext:
    return AuthorizeContext(Params.parse(query), NOW, named_client=client)


def _run(
    table: Table[object] | Table[AuthorizeContext] | Table[TokenContext], ctx: object
) -> list[CheckResult]:
    results: list[CheckResult] = []
    table.run(ctx, results)  # type: ignore[arg-type]
    return results


def _token_request(form: str, auth: str | None = None) -> Request:
    headers = {"content-type": "application/x-www-form-urlencoded"}
    if auth is not None:
        headers["authorization"] = auth
    return Request("POST", "/token", Params(), Params.parse(form), headers, {})


def _code(**changes: object) -> Code:
    code = Code(
        code_hash=digest("the-code"),
        client_id="app",
        user_id=1,
        redirect_uri=REDIRECT,
        scope="openid",
        nonce=None,
        code_challenge=CHALLENGE,
        code_challenge_method="S256",
        auth_time=NOW - 5,
        flow_id="f",
        expires_at=NOW + 60,
        used_at=None,
        grant_id=None,
    )
    return replace(code, **changes)  # type: ignore[arg-type]


# -- tables -----------------------------------------------------------------------------------


def test_every_endpoint_table_is_in_an_order_that_works() -> None:
    tables = [
        authorize.PAGE_CHECKS,
        authorize.REDIRECT_CHECKS,
        token.COMMON_CHECKS,
        *(grant.checks for grant in grants.GRANT_TYPES.values()),
        revocation.REVOCATION_CHECKS,
        revocation.INTROSPECTION_CHECKS,
        rfc6750.BEARER_CHECKS,
    ]
    for table in tables:
        for switches in ((), tuple(LabSwitch)):  # strict, and every switch at once
            changed = lab.apply(table, frozenset(switches))
            assert isinstance(changed, Table), table.name


def test_a_table_in_the_wrong_order_fails_when_it_is_built() -> None:
    with pytest.raises(TableError) as caught:
        Table.of("authorize", [rfc6749.redirect_uri_exact, rfc6749.client_id_known])
    assert str(caught.value) == (
        "table 'authorize': rfc6749.redirect_uri_exact needs client, which no check before it sets"
    )


def test_a_dependency_can_be_given_by_the_loader() -> None:
    table = Table.of("t", [rfc6749.redirect_uri_exact], given=("client",))
    assert table.checks == (rfc6749.redirect_uri_exact,)


def test_checks_declare_what_they_need_and_set() -> None:
    assert rfc6749.client_id_known.sets == {"client"}
    assert rfc6749.redirect_uri_exact.needs == {"client"}
    assert rfc7636.verifier_matches.needs == {"code"}
    assert rfc9700.refresh_token_not_replayed.needs == {"refresh"}


def test_an_unknown_change_target_is_an_error() -> None:
    @check("", "RFC 6749 §3.1")
    def lonely(ctx: object) -> None:
        """A check in no table."""

    with pytest.raises(TableError):
        Table.of("t", [rfc6749.response_type_present]).drop(lonely)
    REGISTRY.remove(lonely)  # type: ignore[arg-type]


# -- lab switches as table changes ------------------------------------------------------------


def test_no_switch_leaves_the_strict_table() -> None:
    assert lab.apply(authorize.REDIRECT_CHECKS, frozenset()) is authorize.REDIRECT_CHECKS


def test_no_pkce_drops_the_requirement_and_checks_a_challenge_only_when_sent() -> None:
    table = lab.apply(authorize.REDIRECT_CHECKS, frozenset({LabSwitch.NO_PKCE}))
    assert not table.has(rfc7636.challenge_required)
    ctx = _authorize("response_type=code&scope=openid")
    ctx.client, ctx.redirect_uri = CLIENT, REDIRECT
    results = _run(table, ctx)
    titles = [r.title for r in results]
    assert f"LAB no-pkce: {rfc7636.challenge_well_formed.title}, when a challenge is sent" in titles
    strict = _authorize("response_type=code&scope=openid")
    strict.client, strict.redirect_uri = CLIENT, REDIRECT
    with pytest.raises(InvalidRequest) as caught:
        _run(authorize.REDIRECT_CHECKS, strict)
    assert caught.value.check_id == "AS-06"


def test_two_switches_that_relax_one_check_compose() -> None:
    both = frozenset({LabSwitch.NO_PKCE, LabSwitch.PLAIN_PKCE})
    table = lab.apply(authorize.REDIRECT_CHECKS, both)
    for query in ("", f"&code_challenge={'v' * 50}&code_challenge_method=plain"):
        ctx = _authorize("response_type=code&scope=openid" + query)
        ctx.client, ctx.redirect_uri = CLIENT, REDIRECT
        assert all(r.passed for r in _run(table, ctx))
    short = _authorize("response_type=code&scope=openid&code_challenge=short")
    short.client, short.redirect_uri = CLIENT, REDIRECT
    with pytest.raises(InvalidRequest) as caught:
        _run(table, short)
    assert caught.value.description == "a plain code_challenge must be 43 to 128 characters"


def test_code_reuse_drops_the_replay_check_from_the_code_grant_only() -> None:
    switches = frozenset({LabSwitch.CODE_REUSE})
    grant = grants.GRANT_TYPES["authorization_code"].checks
    assert not lab.apply(grant, switches).has(rfc6749.code_not_used_before)
    assert lab.apply(token.COMMON_CHECKS, switches).checks == token.COMMON_CHECKS.checks


def test_loose_redirect_accepts_a_prefix() -> None:
    table = lab.apply(authorize.PAGE_CHECKS, frozenset({LabSwitch.LOOSE_REDIRECT}))
    ctx = _authorize(f"client_id=app&redirect_uri={REDIRECT}/../evil")
    _run(table, ctx)
    assert ctx.redirect_uri == REDIRECT + "/../evil"
    with pytest.raises(PageError):
        _run(authorize.PAGE_CHECKS, _authorize(f"client_id=app&redirect_uri={REDIRECT}/x"))


# -- authorization endpoint checks ------------------------------------------------------------


def test_an_unknown_client_is_a_page_never_a_redirect() -> None:
    with pytest.raises(PageError) as caught:
        _run(authorize.PAGE_CHECKS, _authorize("client_id=nobody", client=None))
    assert caught.value.check_id == "AS-09"


def test_the_loaded_client_must_be_the_one_named() -> None:
    other = replace(CLIENT, client_id="other")
    with pytest.raises(PageError):
        _run(authorize.PAGE_CHECKS, _authorize(f"client_id=app&redirect_uri={REDIRECT}", other))


def test_scope_is_parsed_as_rfc_6749_says() -> None:
    ctx = _authorize("scope=openid%20%20profile")
    ctx.client = CLIENT
    with pytest.raises(InvalidScope) as caught:
        rfc6749.scope_registered.run(ctx)
    assert "single spaces" in caught.value.description
    ok = _authorize("scope=profile%20openid%20profile")
    ok.client = CLIENT
    rfc6749.scope_registered.run(ok)
    assert str(ok.scopes) == "profile openid"


# -- token endpoint checks --------------------------------------------------------------------


def _presenting(request: Request, named: Client | None) -> TokenContext:
    """A token context as the loader leaves it: the credentials read, the client they name."""
    ctx = TokenContext(request, NOW, named_client=named)
    ctx.credentials = rfc6749.presented_credentials(request)
    return ctx


def test_client_authentication_reads_only_what_was_loaded() -> None:
    basic = "Basic YXBwOnMzY3JldA=="  # app:s3cret
    ctx = _presenting(_token_request("grant_type=authorization_code", basic), CLIENT)
    rfc6749.client_authenticated.run(ctx)
    assert (ctx.client, ctx.auth_method) == (CLIENT, "client_secret_basic")
    wrong = _presenting(_token_request("", "Basic YXBwOndyb25n"), CLIENT)
    with pytest.raises(InvalidClient):
        rfc6749.client_authenticated.run(wrong)
    unknown = _presenting(_token_request("", basic), None)
    with pytest.raises(InvalidClient):
        rfc6749.client_authenticated.run(unknown)


def test_unreadable_credentials_are_refused_by_the_check_not_the_loader() -> None:
    both = _token_request("client_secret=s3cret", "Basic YXBwOnMzY3JldA==")
    ctx = _presenting(both, CLIENT)  # the loader reads them without raising
    assert ctx.credentials is not None
    assert isinstance(ctx.credentials.problem, InvalidRequest)
    with pytest.raises(InvalidRequest):
        rfc6749.client_authenticated.run(ctx)
    not_base64 = _presenting(_token_request("", "Basic %%%"), CLIENT)
    with pytest.raises(InvalidClient):
        rfc6749.client_authenticated.run(not_base64)


def _code_context(form: str, code: Code) -> TokenContext:
    ctx = TokenContext(_token_request(form), NOW, presented_code=code)
    ctx.client, ctx.grant_type = CLIENT, "authorization_code"
    return ctx


def test_a_good_code_passes_the_whole_grant_table() -> None:
    ctx = _code_context(f"code=the-code&redirect_uri={REDIRECT}&code_verifier={VERIFIER}", _code())
    results = _run(grants.GRANT_TYPES["authorization_code"].checks, ctx)
    assert [r.id for r in results] == [
        "AS-15",
        "AS-19",
        "AS-16",
        "AS-18",
        "AS-11",
        "AS-07",
        "AS-04",
        "AS-05",
        "",  # RFC 8707 §2.2: no resource sent, so passed without being called
    ]
    assert all(r.passed for r in results)
    assert ctx.actions == []


def test_a_replayed_code_asks_for_its_grant_to_be_revoked() -> None:
    used = _code(used_at=NOW - 1, grant_id="g1")
    ctx = _code_context(f"code=the-code&redirect_uri={REDIRECT}&code_verifier={VERIFIER}", used)
    with pytest.raises(InvalidGrant) as caught:
        _run(grants.GRANT_TYPES["authorization_code"].checks, ctx)
    assert caught.value.check_id == "AS-16"
    assert ctx.actions == [RevokeGrant("g1")]


@pytest.mark.parametrize(
    ("form", "code", "check_id"),
    [
        (f"code=other&redirect_uri={REDIRECT}", _code(), "AS-15"),
        (f"code=the-code&redirect_uri={REDIRECT}", _code(client_id="someone"), "AS-19"),
        (f"code=the-code&redirect_uri={REDIRECT}", _code(expires_at=NOW), "AS-18"),
        (f"code=the-code&redirect_uri={REDIRECT}/x&code_verifier={VERIFIER}", _code(), "AS-11"),
        (f"code=the-code&redirect_uri={REDIRECT}", _code(), "AS-04"),
        (f"code=the-code&redirect_uri={REDIRECT}&code_verifier={'a' * 43}", _code(), "AS-04"),
        (
            f"code=the-code&redirect_uri={REDIRECT}&code_verifier={VERIFIER}",
            _code(code_challenge=None),
            "AS-05",
        ),
    ],
)
def test_each_code_check_refuses_its_case(form: str, code: Code, check_id: str) -> None:
    with pytest.raises(OAuthError) as caught:
        _run(grants.GRANT_TYPES["authorization_code"].checks, _code_context(form, code))
    assert caught.value.check_id == check_id


def _refresh(**changes: object) -> Token:
    row = Token(
        id=digest("the-refresh"),
        kind="refresh",
        client_id="app",
        user_id=1,
        grant_id="g1",
        scope="openid profile",
        created_at=NOW - 100,
        expires_at=NOW + 1000,
        used_at=None,
        revoked_at=None,
        jkt=None,
    )
    return replace(row, **changes)  # type: ignore[arg-type]


def test_a_replayed_refresh_token_revokes_the_family_and_may_not_widen_scope() -> None:
    used = TokenContext(
        _token_request("refresh_token=the-refresh"),
        NOW,
        presented_refresh=(_refresh(used_at=NOW - 1), None),
    )
    used.client, used.grant_type = CLIENT, "refresh_token"
    with pytest.raises(InvalidGrant):
        _run(grants.GRANT_TYPES["refresh_token"].checks, used)
    assert used.actions == [RevokeGrant("g1")]
    wider = TokenContext(
        _token_request("refresh_token=the-refresh&scope=openid%20photos.read"),
        NOW,
        presented_refresh=(_refresh(), None),
    )
    wider.client, wider.grant_type = CLIENT, "refresh_token"
    with pytest.raises(InvalidScope) as caught:
        _run(grants.GRANT_TYPES["refresh_token"].checks, wider)
    assert caught.value.check_id == "AS-43"


# -- bearer checks and forms ------------------------------------------------------------------


def _bearer(
    headers: dict[str, str], found: tuple[Token, float | None] | None, scope: str | None = None
) -> BearerContext:
    request = Request("GET", "/api/photos", Params(), Params(), headers, {})
    return BearerContext(request, NOW, DpopInputs("http://127.0.0.1", ReplayCache()), scope, found)


def test_bearer_checks() -> None:
    access = (_refresh(kind="access", id="t", scope="openid photos.read"), None)
    ok = _bearer({"authorization": "Bearer abc"}, access, "photos.read")
    assert all(r.passed for r in _run(rfc6750.BEARER_CHECKS, ok))
    assert ok.token is not None
    assert ok.value == "abc"
    with pytest.raises(MissingToken):
        _run(rfc6750.BEARER_CHECKS, _bearer({}, access))
    with pytest.raises(InvalidToken) as expired:
        _run(
            rfc6750.BEARER_CHECKS,
            _bearer({"authorization": "Bearer abc"}, (replace(access[0], expires_at=NOW), None)),
        )
    assert expired.value.description == "the access token expired"
    with pytest.raises(InsufficientScope) as narrow:
        _run(
            rfc6750.BEARER_CHECKS, _bearer({"authorization": "Bearer abc"}, access, "photos.print")
        )
    assert narrow.value.scope == "photos.print"


def test_form_checks() -> None:
    good = FormContext(Params.parse("csrf=expected"), False, "expected", True)
    csrf.form_from_this_session.run(good)
    for bad in (
        FormContext(Params.parse("csrf=other"), False, "expected", True),
        FormContext(Params.parse("csrf=expected"), True, "expected", True),
        FormContext(Params(), False, "expected", True),
    ):
        with pytest.raises(PageError):
            csrf.form_from_this_session.run(bad)
    with pytest.raises(PageError):
        oidc.consent_by_signed_in_user.run(FormContext(Params(), False, "x", False))
    with pytest.raises(OAuthError):
        oidc.user_authenticated.run(FormContext(Params(), False, "x", True, password_ok=False))


def test_every_check_that_runs_is_registered() -> None:
    registered = {c.slot for c in REGISTRY}
    for table in (authorize.PAGE_CHECKS, token.COMMON_CHECKS, rfc6750.BEARER_CHECKS):
        assert {c.slot for c in table} <= registered


def test_a_check_about_an_absent_header_passes_without_being_called() -> None:
    calls: list[str] = []

    def judge(ctx: TokenContext) -> None:
        calls.append(ctx.request.headers["x-proof"])
        raise InvalidRequest("a bad proof")

    about_header: Check[TokenContext] = Check(
        "", "test", "Judge x-proof", "", judge, header="x-proof"
    )
    table = Table.of("test", [about_header])
    without = TokenContext(_token_request("grant_type=x"), NOW)
    results = _run(table, without)
    assert calls == []
    assert [(r.title, r.passed) for r in results] == [("Judge x-proof", True)]

    sent = _token_request("grant_type=x")
    with_header = TokenContext(replace(sent, headers={**sent.headers, "x-proof": "p"}), NOW)
    with pytest.raises(InvalidRequest):
        _run(table, with_header)
    assert calls == ["p"]


MCP = Resource("http://127.0.0.1:8790/mcp", "MCP", frozenset({"photos.read", "photos.print"}))


@pytest.mark.parametrize(
    ("origin", "named", "allowed"),
    [
        ("dynamic", True, True),  # registered itself, names the resource that serves the scope
        ("cimd", True, True),
        ("dynamic", False, False),  # no resource named: its registered scopes only
        ("admin", True, False),  # an administrator's client: its registered scopes only
    ],
)
def test_a_self_registered_client_may_ask_for_what_a_named_resource_serves(
    origin: str, named: bool, allowed: bool
) -> None:
    client = replace(CLIENT, origin=origin)
    ctx = _authorize("scope=photos.read+photos.print", client)
    ctx.client = client
    if named:
        ctx.named_resources = {MCP.uri: MCP}
    if allowed:
        rfc6749.scope_registered.run(ctx)
        assert str(ctx.scopes) == "photos.read photos.print"
    else:
        with pytest.raises(InvalidScope) as caught:
            rfc6749.scope_registered.run(ctx)
        assert caught.value.description == "scope not allowed for this client: photos.print"

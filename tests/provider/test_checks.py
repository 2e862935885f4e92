"""Checks as units: each registered check's metadata, and the ones e2e tests cannot reach."""

from __future__ import annotations

import re

import pytest

from valetkey.provider.checks import REGISTRY, CheckResult, TokenContext, rfc7636, run_checks
from valetkey.provider.errors import InvalidGrant, OAuthError
from valetkey.provider.http import Params, Request
from valetkey.provider.store.records import Code

CATALOGUE_ID = re.compile(r"AS-\d\d")


def test_every_check_is_documented_and_cites_a_clause() -> None:
    import valetkey.provider.endpoints.authorize
    import valetkey.provider.endpoints.token  # noqa: F401  (registers every check)

    assert len(REGISTRY) >= 30
    for item in REGISTRY:
        assert item.id == "" or CATALOGUE_ID.fullmatch(item.id), item
        assert re.search(r"(RFC \d{4}|OIDC|OAuth 2\.0|CIMD) .*§", item.clause), (
            item
        )  # CIMD: a draft
        assert item.title, item
        assert not item.title.endswith("."), item
        assert item.run.__doc__, item


def _code(challenge: str | None) -> Code:
    return Code(
        "h",
        "photo-printer",
        1,
        "http://127.0.0.1:8500/callback",
        "openid",
        None,
        challenge,
        "S256" if challenge else None,
        0.0,
        "f",
        1e12,
        None,
        None,
    )


def _ctx(form: str, code: Code) -> TokenContext:
    request = Request("POST", "/token", Params(), Params.parse(form), {}, {})
    ctx = TokenContext(request=request, now=0.0)
    ctx.code = code
    return ctx


def test_pkce_downgrade_is_refused() -> None:
    """AS-05: a code issued without a challenge, redeemed with a verifier (RFC 9700 §4.8.2)."""
    ctx = _ctx("code_verifier=" + "a" * 43, _code(None))
    results: list[CheckResult] = []
    with pytest.raises(InvalidGrant) as caught:
        run_checks((rfc7636.verifier_matches, rfc7636.no_pkce_downgrade), ctx, results)
    assert caught.value.check_id == "AS-05"
    assert [r.passed for r in results] == [True, False]
    assert results[1].clause == "RFC 9700 §4.8.2"


def test_pkce_without_challenge_and_without_verifier_passes() -> None:
    ctx = _ctx("", _code(None))
    results: list[CheckResult] = []
    run_checks((rfc7636.verifier_matches, rfc7636.no_pkce_downgrade), ctx, results)
    assert [r.passed for r in results] == [True, True]


def test_run_checks_stops_at_first_failure() -> None:
    ctx = _ctx("", _code("x" * 43))
    results: list[CheckResult] = []
    with pytest.raises(OAuthError):
        run_checks((rfc7636.verifier_matches, rfc7636.no_pkce_downgrade), ctx, results)
    assert [(r.id, r.passed) for r in results] == [("AS-04", False)]

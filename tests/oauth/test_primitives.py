"""The sans-I/O protocol primitives: base64url, JOSE reading, PKCE, Scope, the request builder."""

from __future__ import annotations

import hashlib
from urllib.parse import parse_qs, urlsplit

import pytest

from valetkey.oauth import base64url, jose, pkce
from valetkey.oauth.authorization_request import AuthorizationRequest, add_query
from valetkey.oauth.scope import Scope, ScopeError
from valetkey.oauth.vocabulary import PARTICIPANTS, STEP_BY_ID, STEPS


@pytest.mark.parametrize(("data", "text"), [(b"", ""), (b"a", "YQ"), (b"\xfb\xff", "-_8")])
def test_base64url_round_trip_without_padding(data: bytes, text: str) -> None:
    assert base64url.encode(data) == text
    assert base64url.decode(text) == data


@pytest.mark.parametrize("text", ["Y", "Y!Q", "+/8", "YR", "é"])
def test_base64url_refuses_what_no_encoder_writes(text: str) -> None:
    with pytest.raises(base64url.Base64UrlError):
        base64url.decode(text)


def test_s256_matches_rfc_7636_appendix_b() -> None:
    verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
    assert pkce.s256(verifier) == "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"


def test_fresh_pkce_is_well_formed_and_unique() -> None:
    pairs = [pkce.Pkce.new() for _ in range(20)]
    assert len({p.verifier for p in pairs}) == 20
    for pair in pairs:
        assert pkce.is_well_formed(pair.verifier)
        assert len(pair.verifier) == 64
        assert pair.challenge == pkce.s256(pair.verifier)
        assert pair.method == "S256"


@pytest.mark.parametrize(
    ("verifier", "ok"),
    [
        ("a" * 42, False),
        ("a" * 43, True),
        ("a" * 128, True),
        ("a" * 129, False),
        ("a" * 42 + "+", False),
        ("-._~" * 11, True),
    ],
)
def test_verifier_grammar(verifier: str, ok: bool) -> None:
    assert pkce.is_well_formed(verifier) is ok


def test_left_half_hash_is_sixteen_bytes_of_sha256() -> None:
    value = base64url.left_half_hash("token")
    assert base64url.decode(value) == hashlib.sha256(b"token").digest()[:16]
    assert len(value) == 22


def test_unverified_parts_and_malformed_tokens() -> None:
    header, claims = base64url.encode(b'{"alg":"none"}'), base64url.encode(b'{"sub":"1"}')
    token = f"{header}.{claims}."
    assert jose.unverified_header(token) == {"alg": "none"}
    assert jose.unverified_claims(token) == {"sub": "1"}
    for bad in ["a.b", "x.y.z", f"{base64url.encode(b'[1]')}.e30.", "e30.TmFO.s"]:
        with pytest.raises(jose.MalformedJwt):
            jose.unverified_header(bad) if bad != "e30.TmFO.s" else jose.unverified_claims(bad)


def test_scope_parses_rfc_6749_section_3_3() -> None:
    scope = Scope.parse("openid profile openid photos.read")
    assert str(scope) == "openid profile photos.read"
    assert scope == Scope.parse("photos.read profile openid")
    assert "profile" in scope
    assert "email" not in scope
    assert len(scope) == 3
    assert Scope.parse("openid") <= scope
    assert not scope <= Scope.parse("openid")
    assert str(scope - Scope.parse("openid")) == "profile photos.read"
    assert str(scope & Scope.parse("photos.read email")) == "photos.read"
    assert str(Scope.parse("b a") | Scope.parse("c a")) == "b a c"
    assert str(Scope.parse("b a").sorted()) == "a b"
    assert Scope.parse("") == Scope()
    assert not Scope()
    assert hash(Scope.parse("a b")) == hash(Scope.parse("b a"))


@pytest.mark.parametrize("text", ["a  b", " a", "a ", 'a"b', "a\\b", "a\tb", "café"])
def test_scope_refuses_what_the_grammar_does_not_allow(text: str) -> None:
    with pytest.raises(ScopeError):
        Scope.parse(text)


def test_lenient_scope_is_for_the_command_line_only() -> None:
    assert str(Scope.lenient("  openid\tprofile  ")) == "openid profile"
    with pytest.raises(ScopeError):
        Scope.lenient('openid "x"')


def test_authorization_request_url_keeps_the_endpoint_query() -> None:
    pair = pkce.Pkce.new()
    request = AuthorizationRequest.fresh(
        "app", "https://app.example/cb", Scope.parse("openid photos.read"), pkce=pair
    )
    url = request.url("https://as.example/authorize?tenant=t1", nonce=None, prompt="consent")
    parts = urlsplit(url)
    query = {k: v[0] for k, v in parse_qs(parts.query).items()}
    assert parts.path == "/authorize"
    assert query == {
        "tenant": "t1",
        "response_type": "code",
        "client_id": "app",
        "redirect_uri": "https://app.example/cb",
        "scope": "openid photos.read",
        "state": request.state,
        "code_challenge": pair.challenge,
        "code_challenge_method": "S256",
        "prompt": "consent",
    }
    assert request.state is not None
    assert len(request.state) == 43
    assert add_query("https://as.example/a#f", {"x": "1 2"}) == "https://as.example/a?x=1+2#f"


def test_vocabulary_numbers_the_five_steps() -> None:
    assert [p.id for p in PARTICIPANTS] == [
        "browser",
        "client",
        "authorization_server",
        "resource_server",
    ]
    assert sorted({s.number for s in STEPS}) == [1, 2, 3, 4, 5]
    assert STEP_BY_ID["token_request"].number == 4

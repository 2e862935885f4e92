"""Issue 15, part B: the protocol and endpoint attacks that got through, replayed over HTTP.

Each test plays the attack against a real sandbox (SQLite, then PostgreSQL) and asserts the
safe answer: status, error code, header, and no traceback in the server's log.
"""

from __future__ import annotations

import json
import re
import secrets
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from joserfc import jws

from tests.e2e.test_dpop import _bound_tokens
from tests.support.sandbox import REDIRECT, SECRETS, Sandbox, demo_browser, hidden, start_sandbox
from valetkey.oauth.base64url import encode as b64
from valetkey.probe.dpop import DpopKey
from valetkey.provider.settings import build_settings
from valetkey.provider.store.open import open_store
from valetkey.useragent.agent import UserAgent
from valetkey.useragent.authorization import query_of

ATTACKER_REDIRECT = "http://127.0.0.1:8501/cb"
CROSS_SITE = "http://127.0.0.1:8501"  # another port of the same host: same-site, not same-origin


@pytest.fixture
def clean_log(sandbox: Sandbox) -> Iterator[None]:
    """After the test: the server logged no traceback and no unexpected error."""
    start = len(sandbox.output())
    yield
    written = sandbox.output()[start:]
    assert "Traceback" not in written, written[-2000:]
    assert "unexpected error" not in written, written[-2000:]


@pytest.fixture
def admin(sandbox: Sandbox) -> Iterator[httpx.Client]:
    client = httpx.Client(
        base_url=sandbox.issuer + "/admin",
        timeout=10,
        headers={"authorization": f"Bearer {sandbox.admin_token}"},
    )
    yield client
    client.close()


def _signed_in(sandbox: Sandbox, username: str, password: str) -> UserAgent:
    agent = demo_browser(sandbox.issuer)
    agent.code(username, password)  # a full flow: the agent now holds a login session
    return agent


def _user(sandbox: Sandbox, name: str) -> str:
    password = f"{name}-password-{secrets.token_hex(4)}"
    sandbox.add_user(name, password, name=name.title())
    return password


# -- M1: forged consent, login CSRF, forged revoke and logout --------------------------------


def _attacker_consent_form(sandbox: Sandbox, suffix: str) -> tuple[str, str, str]:
    """The attacker's own authorization for their own app, up to the consent form: their
    browser id (to plant), the pending request id and the form's CSRF token."""
    client_id = f"mallory-app-{suffix}"
    sandbox.add_client(client_id, f"mallory-secret-{secrets.token_hex(8)}", (ATTACKER_REDIRECT,))
    password = _user(sandbox, f"mallory-{suffix}")
    attacker = demo_browser(sandbox.issuer)
    try:
        auth = attacker.request_params(client_id=client_id, redirect_uri=ATTACKER_REDIRECT)
        login = attacker.authorize(auth.params).headers["location"]
        to_consent = attacker.login(login, f"mallory-{suffix}", password)
        assert to_consent.status_code == 303
        page = attacker.http.get(to_consent.headers["location"])
        assert page.status_code == 200
        browser_id = attacker.http.cookies["vk_browser"]
        return browser_id, hidden(page.text, "request"), hidden(page.text, "csrf")
    finally:
        attacker.close()


@pytest.mark.parametrize(
    "fetch_headers",
    [{}, {"sec-fetch-site": "same-site", "origin": CROSS_SITE}],
    ids=["no-fetch-metadata", "browser-headers"],
)
def test_forged_consent_with_a_planted_browser_id_issues_no_code(
    sandbox: Sandbox, clean_log: None, fetch_headers: dict[str, str]
) -> None:
    """The attack of M1 end to end: no code for the victim's account reaches the attacker."""
    suffix = "nofm" if not fetch_headers else "fm"
    browser_id, request_id, csrf = _attacker_consent_form(sandbox, suffix)
    victim = _signed_in(sandbox, "alice", sandbox.password("alice"))
    try:
        victim.http.cookies.set("vk_browser", browser_id, domain="127.0.0.1", path="/")
        forged = victim.http.post(
            "/consent",
            data={"csrf": csrf, "request": request_id, "decision": "allow"},
            headers=fetch_headers,
        )
        assert forged.status_code == 403
        assert "location" not in forged.headers
        expected = "sent from another site" if fetch_headers else "This form has expired"
        assert expected in forged.text
        # and the victim's own session still works: the forgery changed nothing
        again = victim.authorize(victim.request_params().params)
        assert "code" in query_of(again.headers["location"])
    finally:
        victim.close()


def test_a_browser_id_the_server_did_not_issue_is_replaced(sandbox: Sandbox) -> None:
    chosen = "A" * 43
    page = httpx.get(sandbox.issuer + "/login", cookies={"vk_browser": chosen})
    assert page.status_code == 200
    issued = httpx.Cookies()
    issued.extract_cookies(page)
    assert issued["vk_browser"] != chosen
    csrf = hidden(page.text, "csrf")
    refused = httpx.post(
        sandbox.issuer + "/login",
        cookies={"vk_browser": chosen},
        data={"csrf": csrf, "username": "alice", "password": sandbox.password("alice")},
    )
    assert refused.status_code == 403
    assert "vk_session" not in refused.headers.get("set-cookie", "")


def test_the_browser_id_rotates_at_login(sandbox: Sandbox) -> None:
    agent = demo_browser(sandbox.issuer)
    try:
        auth = agent.request_params()
        login = agent.authorize(auth.params).headers["location"]
        before = agent.http.cookies["vk_browser"]
        answer = agent.login(login, "alice", sandbox.password("alice"))
        assert answer.status_code == 303
        assert agent.http.cookies["vk_browser"] != before
        # the pending request moved with the browser: the flow completes
        assert "code" in query_of(answer.headers["location"]) or answer.headers[
            "location"
        ].startswith("/consent")
    finally:
        agent.close()


@pytest.mark.parametrize(
    "headers",
    [
        {"sec-fetch-site": "same-site", "origin": CROSS_SITE},
        {"sec-fetch-site": "cross-site", "origin": "https://evil.example"},
        {"origin": CROSS_SITE},
        {"origin": "null"},
    ],
    ids=["same-site", "cross-site", "origin-only", "origin-null"],
)
@pytest.mark.parametrize("path", ["/login", "/consent", "/logout", "/account/revoke"])
def test_cross_site_form_posts_are_refused(
    sandbox: Sandbox, clean_log: None, path: str, headers: dict[str, str]
) -> None:
    """Login CSRF, forged consent, forged logout and forged revoke, from another origin."""
    victim = _signed_in(sandbox, "alice", sandbox.password("alice"))
    try:
        page = victim.http.get("/account")
        data = {"csrf": hidden(page.text, "csrf"), "client_id": "photo-printer"}
        if path == "/logout":
            data["csrf"] = hidden(page.text.split('action="/logout"', 1)[1], "csrf")
        answer = victim.http.post(path, data=data, headers=headers)
        assert answer.status_code == 403
        assert "This form was sent from another site" in answer.text
        assert "set-cookie" not in answer.headers
        still = victim.http.get("/account")
        assert still.status_code == 200  # still signed in, nothing revoked
        assert "Photo Printer" in still.text
    finally:
        victim.close()


def test_same_origin_form_posts_from_a_browser_pass(sandbox: Sandbox) -> None:
    """What Chromium sends from our own no-referrer pages: same-origin, and Origin null."""
    agent = demo_browser(sandbox.issuer)
    try:
        login = agent.authorize(agent.request_params().params).headers["location"]
        answer = agent.login(
            login,
            "alice",
            sandbox.password("alice"),
            headers={"sec-fetch-site": "same-origin", "origin": "null"},
        )
        assert answer.status_code == 303
    finally:
        agent.close()


# -- M2: DPoP on refresh (RFC 9449 §5) ---------------------------------------------------------


def _refresh(
    sandbox: Sandbox, refresh_token: str, client: tuple[str, str | None], proof: str | None
) -> httpx.Response:
    client_id, secret = client
    data = {"grant_type": "refresh_token", "refresh_token": refresh_token}
    headers = {"dpop": proof} if proof else {}
    if secret is None:
        data["client_id"] = client_id
        return httpx.post(sandbox.issuer + "/token", data=data, headers=headers)
    return httpx.post(
        sandbox.issuer + "/token", data=data, headers=headers, auth=(client_id, secret)
    )


def _bound_refresh_token(sandbox: Sandbox, key: DpopKey, client: tuple[str, str | None]) -> str:
    client_id, secret = client
    agent = demo_browser(sandbox.issuer)
    try:
        code, auth = agent.code(
            "alice",
            sandbox.password("alice"),
            client_id=client_id,
            scope="openid photos.read offline_access",
        )
    finally:
        agent.close()
    data = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": REDIRECT,
        "code_verifier": auth.verifier,
    }
    proof = {"dpop": key.proof("POST", sandbox.issuer + "/token")}
    if secret is None:
        answer = httpx.post(
            sandbox.issuer + "/token", data={**data, "client_id": client_id}, headers=proof
        )
    else:
        answer = httpx.post(
            sandbox.issuer + "/token", data=data, headers=proof, auth=(client_id, secret)
        )
    assert answer.status_code == 200, answer.text
    assert answer.json()["token_type"] == "DPoP"
    return str(answer.json()["refresh_token"])


@pytest.mark.parametrize("kind", ["public", "confidential"])
def test_refresh_keeps_the_dpop_binding(sandbox: Sandbox, clean_log: None, kind: str) -> None:
    if kind == "public":
        client: tuple[str, str | None] = ("dpop-spa", None)
        if sandbox.store().client("dpop-spa") is None:
            sandbox.add_client("dpop-spa", None, (REDIRECT,))
    else:
        client = ("photo-printer", sandbox.secret)
    key = DpopKey()
    refresh = _bound_refresh_token(sandbox, key, client)
    url = sandbox.issuer + "/token"
    bare = _refresh(sandbox, refresh, client, None)
    assert bare.status_code == 400
    assert bare.json()["error"] == "invalid_dpop_proof"
    other = _refresh(sandbox, refresh, client, DpopKey().proof("POST", url))
    assert other.status_code == 400
    assert other.json()["error"] == "invalid_grant"
    good = _refresh(sandbox, refresh, client, key.proof("POST", url))
    assert good.status_code == 200, good.text
    assert good.json()["token_type"] == "DPoP"
    rotated = good.json()["refresh_token"]
    assert _refresh(sandbox, rotated, client, None).json()["error"] == "invalid_dpop_proof"
    assert _refresh(sandbox, rotated, client, key.proof("POST", url)).status_code == 200


# -- M3: introspection (RFC 7662 §2.1, RFC 9449 §6.2) -----------------------------------------


def test_introspection_needs_the_confidential_owner(sandbox: Sandbox, clean_log: None) -> None:
    key = DpopKey()
    tokens = _bound_tokens(sandbox, key)
    url = sandbox.issuer + "/introspect"
    access = tokens["access_token"]
    if sandbox.store().client("spa-introspect") is None:
        sandbox.add_client("spa-introspect", None, (REDIRECT,))
        sandbox.add_client("other-rs", "other-rs-secret-0123456789", (REDIRECT,))
    public = httpx.post(url, data={"token": access, "client_id": "spa-introspect"})
    assert public.status_code == 401
    assert public.json()["error"] == "invalid_client"
    assert public.headers["www-authenticate"].startswith("Basic")
    other = httpx.post(url, data={"token": access}, auth=("other-rs", "other-rs-secret-0123456789"))
    assert other.status_code == 200
    assert other.json() == {"active": False}
    owner = httpx.post(url, data={"token": access}, auth=("photo-printer", sandbox.secret))
    body = owner.json()
    assert body["active"] is True
    assert body["token_type"] == "DPoP"
    assert body["cnf"] == {"jkt": key.jkt}


# -- logout: id_token_hint must be this user's ID token --------------------------------------


@pytest.mark.parametrize("hint_kind", ["access_token", "other_users_id_token"])
def test_logout_hint_that_is_not_this_users_id_token_asks(
    sandbox: Sandbox, clean_log: None, hint_kind: str
) -> None:
    if hint_kind == "access_token":
        agent = demo_browser(sandbox.issuer)
        code, auth = agent.code("alice", sandbox.password("alice"))
        hint = sandbox.redeem(code, auth.verifier).json()["access_token"]
    else:
        name = f"bob-logout-{secrets.token_hex(3)}"
        password = _user(sandbox, name)
        other = demo_browser(sandbox.issuer)
        code, auth = other.code(name, password)
        hint = sandbox.redeem(code, auth.verifier).json()["id_token"]
        other.close()
        agent = _signed_in(sandbox, "alice", sandbox.password("alice"))
    try:
        answer = agent.http.get(
            "/logout",
            params={"id_token_hint": hint, "post_logout_redirect_uri": "http://127.0.0.1:8500/"},
        )
        assert answer.status_code == 200
        assert "Sign out?" in answer.text
        assert "location" not in answer.headers
        assert "vk_session=;" not in answer.headers.get("set-cookie", "")
        still = agent.http.get("/account")
        assert still.status_code == 200  # the session did not end
    finally:
        agent.close()


def test_logout_with_this_users_id_token_ends_the_session(sandbox: Sandbox) -> None:
    agent = demo_browser(sandbox.issuer)
    try:
        code, auth = agent.code("alice", sandbox.password("alice"))
        hint = sandbox.redeem(code, auth.verifier).json()["id_token"]
        answer = agent.http.get("/logout", params={"id_token_hint": hint})
        assert answer.status_code == 200
        assert "You are signed out" in answer.text
        assert agent.http.get("/account").status_code == 302  # to /login
    finally:
        agent.close()


# -- unauthenticated 500s ----------------------------------------------------------------------

NESTED_JWT = f"{b64(b'[' * 1000 + b']' * 1000)}.{b64(b'{}')}.{b64(b'sig')}"


@pytest.mark.parametrize(
    ("method", "path", "auth", "status"),
    [
        ("GET", "/api/photos", False, 401),
        ("GET", "/userinfo", False, 401),
        ("POST", "/introspect", True, 200),
        ("POST", "/revoke", True, 200),
    ],
)
def test_deeply_nested_token_header_is_no_500(
    sandbox: Sandbox, clean_log: None, method: str, path: str, auth: bool, status: int
) -> None:
    url = sandbox.issuer + path
    if auth:
        answer = httpx.post(url, data={"token": NESTED_JWT}, auth=("photo-printer", sandbox.secret))
        assert answer.json() in ({"active": False}, {})
    else:
        answer = httpx.request(method, url, headers={"authorization": f"Bearer {NESTED_JWT}"})
        assert answer.json()["error"] == "invalid_token"
        assert answer.headers["www-authenticate"].startswith('Bearer realm="valetkey"')
    assert answer.status_code == status


def _proof_with_payload(key: DpopKey, payload: bytes) -> str:
    header = {"typ": "dpop+jwt", "alg": "ES256", "jwk": key.key.as_dict(private=False)}
    return jws.serialize_compact(header, payload, key.key, algorithms=["ES256"])


def _unsigned(header: dict[str, object]) -> str:
    raw = json.dumps(header, ensure_ascii=False).encode()
    return f"{b64(raw)}.{b64(b'{}')}.{b64(b'sig')}"


def _bad_proofs(url: str) -> dict[str, str]:
    key = DpopKey()
    now = int(time.time())
    claims = f'"jti":"{secrets.token_hex(8)}","htm":"POST","htu":"{url}"'
    return {
        "array-payload": _proof_with_payload(key, b'["POST", 1]'),
        "string-payload": _proof_with_payload(key, b'"a string"'),
        "iat-nan": _proof_with_payload(key, ("{" + claims + ',"iat":NaN}').encode()),
        "iat-infinity": _proof_with_payload(key, ("{" + claims + ',"iat":Infinity}').encode()),
        "iat-true": _proof_with_payload(key, ("{" + claims + ',"iat":true}').encode()),
        "jwk-non-latin-1": _unsigned(
            {
                "typ": "dpop+jwt",
                "alg": "ES256",
                # joserfc's error names the unknown curve: it must not reach the header
                "jwk": {"kty": "EC", "crv": "\u0101\u4e2d", "x": "AA", "y": "AA"},
            }
        ),
        "nested-header": f"{b64(b'[' * 1000 + b']' * 1000)}.{b64(b'{}')}.{b64(b'x')}",
        "fresh-control": _proof_with_payload(key, ("{" + claims + f',"iat":{now}}}').encode()),
    }


@pytest.mark.parametrize(
    "name",
    [
        "array-payload",
        "string-payload",
        "iat-nan",
        "iat-infinity",
        "iat-true",
        "jwk-non-latin-1",
        "nested-header",
    ],
)
def test_bad_dpop_proof_at_the_token_endpoint_is_a_400(
    sandbox: Sandbox, clean_log: None, name: str
) -> None:
    url = sandbox.issuer + "/token"
    answer = httpx.post(
        url,
        auth=("photo-printer", sandbox.secret),
        data={"grant_type": "refresh_token", "refresh_token": "x"},
        headers={"dpop": _bad_proofs(url)[name]},
    )
    assert answer.status_code == 400
    assert answer.json()["error"] == "invalid_dpop_proof"


def test_the_control_proof_passes_the_dpop_check(sandbox: Sandbox) -> None:
    """The same hand-made proof with a finite iat: refused later, for the refresh token."""
    url = sandbox.issuer + "/token"
    answer = httpx.post(
        url,
        auth=("photo-printer", sandbox.secret),
        data={"grant_type": "refresh_token", "refresh_token": "x"},
        headers={"dpop": _bad_proofs(url)["fresh-control"]},
    )
    assert answer.json()["error"] == "invalid_grant"


@pytest.mark.parametrize("name", ["array-payload", "string-payload", "jwk-non-latin-1"])
def test_bad_dpop_proof_at_the_resource_is_a_401_with_an_ascii_challenge(
    sandbox: Sandbox, clean_log: None, name: str
) -> None:
    access = _bound_tokens(sandbox, DpopKey())["access_token"]
    url = sandbox.issuer + "/api/photos"
    answer = httpx.get(
        url, headers={"authorization": f"DPoP {access}", "dpop": _bad_proofs(url)[name]}
    )
    assert answer.status_code == 401
    challenge = answer.headers["www-authenticate"]
    assert challenge.startswith('DPoP realm="valetkey", error="invalid_dpop_proof"')
    assert challenge.isascii()
    assert "\u0101" not in answer.text


# -- prompt=consent on POST /authorize ----------------------------------------------------------


def test_post_to_authorize_with_prompt_consent_asks_for_consent(
    sandbox: Sandbox, clean_log: None
) -> None:
    agent = _signed_in(sandbox, "alice", sandbox.password("alice"))  # consented before
    try:
        auth = agent.request_params(prompt="consent")
        answer = agent.http.post("/authorize", data=auth.params)
        assert answer.status_code == 303
        assert answer.headers["location"].startswith("/consent?request=")
        plain = agent.http.post("/authorize", data=agent.request_params().params)
        assert "code" in query_of(plain.headers["location"])  # the control: consent on file
    finally:
        agent.close()


def test_login_with_prompt_consent_still_asks_for_consent(sandbox: Sandbox) -> None:
    agent = demo_browser(sandbox.issuer)
    try:
        agent.code("alice", sandbox.password("alice"))
        agent.http.cookies.delete("vk_session")
        auth = agent.request_params(prompt="consent")
        login = agent.authorize(auth.params).headers["location"]
        answer = agent.login(login, "alice", sandbox.password("alice"))
        assert answer.status_code == 303
        assert answer.headers["location"].startswith("/consent?request=")
    finally:
        agent.close()


# -- redirect-URI registration: one validator, at the admin API and the CLI --------------------

BAD_REDIRECT_URIS = [
    ("http://evil.example\\@127.0.0.1/cb", "backslash"),
    ("http://evil.example@127.0.0.1/cb", "userinfo"),
    ("ws://127.0.0.1/cb", "not ws:"),
    ("ftp://files.example/cb", "not ftp:"),
    ("view-source:https://a.example/cb", "not view-source:"),
    ("javascript:alert(1)", "not javascript:"),
    ("data:text/html,hi", "not data:"),
    ("https://a.example/cb\r\nSet-Cookie: x=1", "control characters"),
    ("https://a.example/my cb", "spaces"),
    ("https://a.example/cb%zz", "escapes of two hex digits"),
    ("https://a.example/cb#frag", "fragment"),
    ("https://*.a.example/cb", "wildcard"),
]


@pytest.mark.parametrize(("uri", "reason"), BAD_REDIRECT_URIS)
def test_admin_api_refuses_bad_redirect_uris(
    sandbox: Sandbox, admin: httpx.Client, clean_log: None, uri: str, reason: str
) -> None:
    answer = admin.post("/clients", json={"client_id": "bad-uri-app", "redirect_uris": [uri]})
    assert answer.status_code == 400
    assert answer.json()["error"] == "invalid_request"
    assert reason in answer.json()["error_description"]


def test_idn_redirect_uri_is_stored_in_punycode_and_never_a_500(
    sandbox: Sandbox, admin: httpx.Client, clean_log: None
) -> None:
    created = admin.post(
        "/clients",
        json={"client_id": "idn-app", "redirect_uris": ["https://bücher.example/cb"]},
    )
    assert created.status_code == 201, created.text
    assert created.json()["redirect_uris"] == ["https://xn--bcher-kva.example/cb"]
    # one registered before this validator existed, straight in the database
    sandbox.add_client("idn-legacy", "idn-legacy-secret-0123456789", ("https://bücher.example/cb",))
    agent = _signed_in(sandbox, "alice", sandbox.password("alice"))
    try:
        for client_id, uri, status in [
            ("idn-app", "https://xn--bcher-kva.example/cb", 302),
            ("idn-app", "https://bücher.example/cb", 400),
            ("idn-legacy", "https://bücher.example/cb", 400),
        ]:
            auth = agent.request_params(client_id=client_id, redirect_uri=uri)
            answer = agent.authorize(auth.params)
            assert answer.status_code == status, (client_id, uri, answer.text)
            assert answer.headers.get("location", "").isascii()
    finally:
        agent.close()


def test_cli_refuses_bad_redirect_uris_and_empty_secrets(tmp_path: Path) -> None:
    def vk(*args: str) -> subprocess.CompletedProcess[str]:
        command = [sys.executable, "-m", "valetkey", "clients", "add", *args]
        return subprocess.run(
            [*command, "--data-dir", str(tmp_path)],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )

    backslash = vk("x", "--redirect-uri", "http://evil.example\\@127.0.0.1/cb")
    assert backslash.returncode == 2
    assert "must not contain a backslash" in backslash.stderr
    assert vk("x", "--redirect-uri", "ws://127.0.0.1/cb").returncode == 2
    empty = vk("x", "--secret", "", "--redirect-uri", "https://a.example/cb")
    assert empty.returncode == 2
    assert "--secret must not be empty" in empty.stderr
    slash = vk("a/b", "--redirect-uri", "https://a.example/cb")
    assert slash.returncode == 2
    idn = vk("idn", "--redirect-uri", "https://bücher.example/cb")
    assert idn.returncode == 0, idn.stderr
    store = open_store(build_settings({"data_dir": str(tmp_path)}, environ={}))
    try:
        registered = store.client("idn")
    finally:
        store.close()
    assert registered is not None
    assert registered.redirect_uris == ("https://xn--bcher-kva.example/cb",)


# -- admin API gaps ------------------------------------------------------------------------------

NESTED_BODY = '{"advance": ' + "[" * 1000 + "]" * 1000 + "}"


@pytest.mark.parametrize(
    ("path", "body", "message"),
    [
        ("/clock", '{"advance": true}', "advance must be a number"),
        ("/clock", '{"advance": NaN}', "NaN is not a JSON number"),
        ("/clock", NESTED_BODY, "nests deeper than"),
        ("/users", '{"username": "\\ud800x", "password": "pw"}', "lone surrogate"),
        ("/clients", '{"client_id": "g", "grants": [["authorization_code"]]}', "grants is a list"),
        ("/clients", '{"client_id": "g", "grants": [{}]}', "grants is a list"),
        (
            "/clients",
            '{"client_id": "s", "secret": "", "redirect_uris": ["https://a.example/"]}',
            "secret has 16 to 1024",
        ),
        (
            "/clients",
            '{"client_id": "a/b", "redirect_uris": ["https://a.example/"]}',
            "must not contain '/'",
        ),
        (
            "/clients",
            json.dumps(
                {
                    "client_id": "long-name",
                    "name": "n" * 300,
                    "redirect_uris": ["https://a.example/"],
                }
            ),
            "name has 1 to 255 characters",
        ),
        (
            "/clients",
            json.dumps({"client_id": "c" * 300, "redirect_uris": ["https://a.example/"]}),
            "client_id has 1 to 255 characters",
        ),
        ("/users", '{"username": "a/b", "password": "pw"}', "must not contain '/'"),
        ("/users", json.dumps({"username": "u" * 151, "password": "pw"}), "1 to 150 characters"),
        ("/users", json.dumps({"username": "pw-long", "password": "p" * 1025}), "at most 1024"),
        ("/users", '{"username": "\\u0430lice-mixed", "password": "pw"}', "mixes scripts"),
    ],
)
def test_admin_api_refuses_with_a_clear_400(
    sandbox: Sandbox, admin: httpx.Client, clean_log: None, path: str, body: str, message: str
) -> None:
    answer = admin.post(path, content=body, headers={"content-type": "application/json"})
    assert answer.status_code == 400, answer.text
    assert answer.json()["error"] == "invalid_request"
    assert message in answer.json()["error_description"]


@pytest.mark.parametrize("look_alike", ["Zoe-Lookalike", " zoe-lookalike ", "ZOE-LOOKALIKE"])
def test_look_alike_usernames_are_duplicates(
    sandbox: Sandbox, admin: httpx.Client, clean_log: None, look_alike: str
) -> None:
    first = admin.post("/users", json={"username": "zoe-lookalike", "password": "zoe-pw-123"})
    assert first.status_code in (201, 409)  # created by the first parameter's run
    SECRETS.add("zoe-pw-123")
    answer = admin.post("/users", json={"username": look_alike, "password": "other-pw-1"})
    assert answer.status_code == 409
    assert "looks like 'zoe-lookalike'" in answer.json()["error_description"]


def test_whole_script_look_alike_is_a_duplicate(
    sandbox: Sandbox, admin: httpx.Client, clean_log: None
) -> None:
    SECRETS.add("aoe-pw-1234")
    first = admin.post("/users", json={"username": "aoe", "password": "aoe-pw-1234"})
    assert first.status_code in (201, 409)
    cyrillic = "\u0430\u043e\u0435"  # Cyrillic a, o, ie: looks like "aoe"
    answer = admin.post("/users", json={"username": cyrillic, "password": "other-pw-1"})
    assert answer.status_code == 409
    # and the stored name is the display form: a padded name is stored stripped
    padded = admin.post("/users", json={"username": "  yann-pad  ", "password": "yann-pw-123"})
    SECRETS.add("yann-pw-123")
    assert padded.status_code in (201, 409)
    assert admin.delete("/users/yann-pad").status_code == 204


def test_tenant_cannot_fault_its_own_admin_api(tmp_path_factory: pytest.TempPathFactory) -> None:
    hosting = start_sandbox(tmp_path_factory.mktemp("tenant-faults"), "--tenant", "acme")
    try:
        admin = httpx.Client(
            base_url=hosting.issuer + "/tenants/acme/admin",
            headers={"authorization": f"Bearer {hosting.admin_token}"},
            timeout=10,
        )
        for path in ("/tenants/acme/admin/users", "/tenants/acme/admin/faults", "/admin/users"):
            answer = admin.post("/faults", json={"path": path, "count": 10_000, "status": 500})
            assert answer.status_code == 400, path
        assert admin.get("/users").status_code == 200
        admin.close()
        assert "Traceback" not in hosting.output()
    finally:
        hosting.stop()


# -- inspector: failed-login usernames masked; who may look -----------------------------------


def test_password_typed_as_username_is_not_recorded(sandbox: Sandbox, clean_log: None) -> None:
    typed = f"correct-horse-{secrets.token_hex(6)}"
    SECRETS.add(typed)  # the suite's record scan looks for it in every flow record too
    agent = demo_browser(sandbox.issuer)
    try:
        login = agent.authorize(agent.request_params().params).headers["location"]
        failed = agent.login(login, typed, "")
        assert failed.status_code == 401
    finally:
        agent.close()
    listing = httpx.get(sandbox.issuer + "/inspector")
    assert listing.status_code == 200
    assert typed not in listing.text
    for flow_id in set(re.findall(r"/inspector/flows/([0-9a-f]{16})", listing.text)):
        page = httpx.get(f"{sandbox.issuer}/inspector/flows/{flow_id}")
        assert typed not in page.text
    flows = sandbox.store().flows(5)
    events = [e for f in flows for e in sandbox.store().flow_events(f["id"]) if e.step == "login"]
    assert events
    assert events[0].params["username"] == "(not recorded: the sign-in failed)"


def test_inspector_needs_the_admin_token_beyond_loopback(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    """Bound to loopback behind a public issuer (a reverse proxy): flows need the token."""
    public = start_sandbox(
        tmp_path_factory.mktemp("inspector-public"), "--issuer", "https://sandbox.example"
    )
    try:
        url = public.url + "/inspector"
        anonymous = httpx.get(url)
        assert anonymous.status_code == 401
        assert anonymous.headers["www-authenticate"] == 'Basic realm="valetkey inspector"'
        assert httpx.get(url, auth=("anyone", "wrong-token-0123456789")).status_code == 401
        assert httpx.get(url, auth=("anyone", public.admin_token)).status_code == 200
        bearer = httpx.get(url, headers={"authorization": f"Bearer {public.admin_token}"})
        assert bearer.status_code == 200
        flow = httpx.get(public.url + "/inspector/flows/0123456789abcdef")
        assert flow.status_code == 401
    finally:
        public.stop()


def test_inspector_is_open_on_loopback(sandbox: Sandbox) -> None:
    assert httpx.get(sandbox.issuer + "/inspector").status_code == 200


def test_no_request_data_breaks_a_location_header(tmp_path: Path) -> None:
    """Even the LAB open redirector never puts a raw non-ASCII or CR/LF target in Location."""
    lab = start_sandbox(tmp_path, "--lab", "open-redirect-on-error")
    try:
        target = "https://bü.example/\u2603\r\nSet-Cookie: x=1"
        answer = httpx.get(
            lab.issuer + "/authorize", params={"client_id": "nobody", "redirect_uri": target}
        )
        assert answer.status_code == 302
        location = answer.headers["location"]
        assert location.startswith("https://b%C3%BC.example/%E2%98%83")
        assert location.isascii()
        assert not {"\r", "\n", " "} & set(location)
        assert "set-cookie" not in answer.headers
        assert "Traceback" not in lab.output()
    finally:
        lab.stop()

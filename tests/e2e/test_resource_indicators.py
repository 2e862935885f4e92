"""RFC 8707 resource indicators over HTTP: `resource` on authorize, token and refresh; `aud`
in JWT access tokens and in introspection (opaque tokens); invalid_target and the scope rule;
the flow record; Authlib as a third-party client sending `resource`."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from authlib.integrations.httpx_client import OAuth2Client
from joserfc import jwt
from joserfc.jwk import KeySet

from tests.support.sandbox import REDIRECT, Sandbox, start_sandbox
from valetkey.oauth.pkce import Pkce, s256
from valetkey.provider.store.records import Resource
from valetkey.useragent.agent import UserAgent

MCP = "http://127.0.0.1:8790/mcp"  # the demo data's resource (the reference MCP server)
PHOTOS = "https://photos.example/api"  # serves photos.read only
UNREGISTERED = "https://elsewhere.example/api"
APP, APP_SECRET = "rs-app", "rs-app-secret-0123456789abcdef"
SCOPES = "openid photos.read photos.print offline_access"


@pytest.fixture(scope="module")
def world(sandbox: Sandbox) -> Sandbox:
    """The module's sandbox with a second resource and a client that may ask for both."""
    sandbox.add_client(APP, APP_SECRET, (REDIRECT,), scopes=SCOPES)
    sandbox.store().add_resource(
        Resource(PHOTOS, "Photos API", frozenset({"photos.read"})), time.time()
    )
    return sandbox


def _authorize_url(
    issuer: str, pairs: list[tuple[str, str]], client_id: str = APP
) -> tuple[str, str]:
    """An authorization URL with these extra pairs (repeatable), and its PKCE verifier."""
    verifier = Pkce.new().verifier
    params = [
        ("client_id", client_id),
        ("redirect_uri", REDIRECT),
        ("response_type", "code"),
        ("state", "state-0123456789abcdef"),
        ("code_challenge", s256(verifier)),
        ("code_challenge_method", "S256"),
        *pairs,
    ]
    if not any(name == "scope" for name, _ in pairs):
        params.append(("scope", "openid photos.read"))
    return f"{issuer}/authorize?{httpx.QueryParams(params)}", verifier


def _callback(sandbox: Sandbox, url: str, redirect: str = REDIRECT) -> dict[str, str]:
    agent = UserAgent("alice", sandbox.password("alice"))
    try:
        stopped = agent.navigate(url, stop_at=lambda u: u.startswith(redirect)).stopped_at
    finally:
        agent.close()
    assert stopped is not None
    return dict(httpx.URL(stopped).params)


def _code(sandbox: Sandbox, *pairs: tuple[str, str]) -> tuple[str, str]:
    url, verifier = _authorize_url(sandbox.issuer, list(pairs))
    query = _callback(sandbox, url)
    assert "code" in query, query
    return query["code"], verifier


def _token(sandbox: Sandbox, pairs: list[tuple[str, str]]) -> httpx.Response:
    """A token request whose body holds these pairs, a repeated name repeated."""
    form: dict[str, list[str]] = {}
    for name, value in pairs:
        form.setdefault(name, []).append(value)
    return httpx.post(sandbox.issuer + "/token", auth=(APP, APP_SECRET), data=form, timeout=10)


def _redeem(sandbox: Sandbox, code: str, verifier: str, *resources: str) -> httpx.Response:
    data = [
        ("grant_type", "authorization_code"),
        ("code", code),
        ("redirect_uri", REDIRECT),
        ("code_verifier", verifier),
        *(("resource", r) for r in resources),
    ]
    return _token(sandbox, data)


def _refresh(sandbox: Sandbox, refresh_token: str, *pairs: tuple[str, str]) -> httpx.Response:
    return _token(
        sandbox, [("grant_type", "refresh_token"), ("refresh_token", refresh_token), *pairs]
    )


def _claims(sandbox: Sandbox, access_token: str) -> dict[str, Any]:
    keys = KeySet.import_key_set(httpx.get(sandbox.issuer + "/jwks.json").json())
    return dict(jwt.decode(access_token, keys, algorithms=["ES256"]).claims)


def _introspect(sandbox: Sandbox, token: str) -> dict[str, Any]:
    answer = httpx.post(
        sandbox.issuer + "/introspect", auth=(APP, APP_SECRET), data={"token": token}
    )
    assert answer.status_code == 200
    return dict(answer.json())


# -- aud follows resource -----------------------------------------------------------------------


def test_one_resource_on_authorize_is_the_tokens_aud(world: Sandbox) -> None:
    code, verifier = _code(world, ("resource", MCP))
    answer = _redeem(world, code, verifier)  # no resource: all that were authorized
    assert answer.status_code == 200, answer.text
    body = answer.json()
    claims = _claims(world, body["access_token"])
    assert claims["aud"] == MCP
    assert claims["scope"] == "openid photos.read"
    assert _introspect(world, body["access_token"])["aud"] == MCP


def test_a_non_canonical_spelling_names_the_same_resource(world: Sandbox) -> None:
    code, verifier = _code(world, ("resource", "HTTP://127.0.0.1:8790/mcp"))
    answer = _redeem(world, code, verifier, "http://127.0.0.1:8790/mcp")
    assert answer.status_code == 200, answer.text
    assert _claims(world, answer.json()["access_token"])["aud"] == MCP


def test_several_resources_give_an_aud_array_and_refresh_narrows(world: Sandbox) -> None:
    code, verifier = _code(
        world, ("resource", MCP), ("resource", PHOTOS), ("scope", "openid photos.read photos.print")
    )
    first = _redeem(world, code, verifier)
    assert first.status_code == 200, first.text
    assert _claims(world, first.json()["access_token"])["aud"] == [MCP, PHOTOS]
    # RFC 8707 §2.2: a refresh may ask for fewer resources; the scope is cut to what they serve
    narrowed = _refresh(world, first.json()["refresh_token"], ("resource", PHOTOS))
    assert narrowed.status_code == 200, narrowed.text
    claims = _claims(world, narrowed.json()["access_token"])
    assert (claims["aud"], claims["scope"]) == (PHOTOS, "openid photos.read")
    assert narrowed.json()["scope"] == "openid photos.read"
    # the grant still holds both: the next refresh may name the other one
    other = _refresh(world, narrowed.json()["refresh_token"], ("resource", MCP))
    assert other.status_code == 200, other.text
    claims = _claims(world, other.json()["access_token"])
    assert (claims["aud"], claims["scope"]) == (MCP, "openid photos.read photos.print")


def test_the_code_exchange_may_name_one_of_the_authorized_resources(world: Sandbox) -> None:
    code, verifier = _code(
        world, ("resource", MCP), ("resource", PHOTOS), ("scope", "openid photos.print")
    )
    answer = _redeem(world, code, verifier, PHOTOS)
    assert answer.status_code == 200, answer.text
    claims = _claims(world, answer.json()["access_token"])
    assert (claims["aud"], claims["scope"]) == (PHOTOS, "openid")


def test_without_resource_the_default_audience_stays(world: Sandbox) -> None:
    code, verifier = _code(world)
    answer = _redeem(world, code, verifier)
    assert _claims(world, answer.json()["access_token"])["aud"] == world.issuer + "/api"


def test_a_token_for_another_resource_is_refused_by_the_sandbox_api(world: Sandbox) -> None:
    code, verifier = _code(world, ("resource", MCP))
    token = _redeem(world, code, verifier).json()["access_token"]
    answer = httpx.get(world.issuer + "/api/photos", headers={"authorization": f"Bearer {token}"})
    assert answer.status_code == 401
    assert 'error="invalid_token"' in answer.headers["www-authenticate"]


# -- invalid_target -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("resource", "description"),
    [
        (UNREGISTERED, "resource is not registered at this server"),
        ("/mcp", "resource must be an absolute https URL"),
        ("http://127.0.0.1:8790/mcp#frag", "resource must not contain a fragment"),
        ("http://127.0.0.1:8790/mcp?x=1", "resource must not contain a query"),
        ("http://photos.example/api", "resource must use https"),
        ("urn:example:mcp", "resource must be an absolute https URL"),
    ],
)
def test_a_bad_resource_at_authorize_goes_back_to_the_redirect_uri(
    world: Sandbox, resource: str, description: str
) -> None:
    """RFC 8707 §2: invalid_target, in the response mode, to the validated redirect URI."""
    url, _ = _authorize_url(world.issuer, [("resource", resource)])
    answer = httpx.get(url)
    assert answer.status_code == 302
    location = answer.headers["location"]
    assert location.startswith(REDIRECT + "?")
    query = dict(httpx.URL(location).params)
    assert query["error"] == "invalid_target"
    assert query["error_description"].startswith(description)
    assert (query["state"], query["iss"]) == ("state-0123456789abcdef", world.issuer)


def test_a_scope_no_named_resource_serves_is_invalid_scope(world: Sandbox) -> None:
    url, _ = _authorize_url(world.issuer, [("resource", PHOTOS), ("scope", "openid photos.print")])
    query = dict(httpx.URL(httpx.get(url).headers["location"]).params)
    assert query["error"] == "invalid_scope"
    assert query["error_description"] == "no resource named serves the scope: photos.print"


@pytest.mark.parametrize(
    ("authorized", "asked"),
    [
        ((MCP,), PHOTOS),  # registered, but not authorized for this code
        ((), MCP),  # the code named no resource: nothing to narrow to
        ((MCP,), UNREGISTERED),
        ((MCP,), "http://127.0.0.1:8790/mcp#x"),
    ],
)
def test_a_resource_the_code_did_not_authorize_is_invalid_target(
    world: Sandbox, authorized: tuple[str, ...], asked: str
) -> None:
    code, verifier = _code(world, *(("resource", r) for r in authorized))
    answer = _redeem(world, code, verifier, asked)
    assert answer.status_code == 400
    assert answer.headers["content-type"] == "application/json"
    assert answer.json()["error"] == "invalid_target"


def test_refresh_never_widens(world: Sandbox) -> None:
    code, verifier = _code(world, ("resource", MCP))
    refresh = _redeem(world, code, verifier).json()["refresh_token"]
    widened = _refresh(world, refresh, ("resource", PHOTOS))
    assert widened.status_code == 400
    assert widened.json()["error"] == "invalid_target"
    # a scope the named resource does not serve, asked for explicitly
    unserved = _refresh(world, refresh, ("resource", MCP), ("scope", "openid"))
    assert unserved.status_code == 200, unserved.text  # openid is the server's own
    refresh = unserved.json()["refresh_token"]
    code, verifier = _code(
        world, ("resource", PHOTOS), ("resource", MCP), ("scope", "photos.print")
    )
    refresh = _redeem(world, code, verifier).json()["refresh_token"]
    refused = _refresh(world, refresh, ("resource", PHOTOS), ("scope", "photos.print"))
    assert refused.status_code == 400
    assert refused.json() == {
        "error": "invalid_scope",
        "error_description": "no resource named serves the scope: photos.print",
    }


# -- what the inspector shows -------------------------------------------------------------------


def test_the_flow_record_shows_the_resource_parameter(world: Sandbox) -> None:
    code, verifier = _code(world, ("resource", MCP), ("resource", PHOTOS))
    _redeem(world, code, verifier, PHOTOS)
    store = world.store()
    flow = next(f for f in store.flows() if f["client_id"] == APP)
    events = store.flow_events(flow["id"])
    asked = next(e for e in events if e.step == "authorization_request")
    exchanged = next(e for e in events if e.step == "token_request")
    assert asked.params["resource"] == f"{MCP} {PHOTOS}"
    assert exchanged.params["resource"] == PHOTOS
    titles = {c["title"] for c in exchanged.checks}
    assert "Each resource named with the code is one the authorization request named" in titles


# -- a public MCP client of the demo data, and Authlib --------------------------------------


def test_the_demo_mcp_client_gets_a_token_for_the_demo_mcp_server(sandbox: Sandbox) -> None:
    redirect = "http://127.0.0.1:8791/callback"
    verifier = Pkce.new().verifier
    params = {
        "client_id": "mcp-inspector",
        "redirect_uri": redirect,
        "response_type": "code",
        "scope": "photos.read photos.print",
        "state": "state-0123456789abcdef",
        "code_challenge": s256(verifier),
        "code_challenge_method": "S256",
        "resource": MCP,
    }
    query = _callback(sandbox, f"{sandbox.issuer}/authorize?{httpx.QueryParams(params)}", redirect)
    answer = httpx.post(
        sandbox.issuer + "/token",
        data={
            "grant_type": "authorization_code",
            "client_id": "mcp-inspector",
            "code": query["code"],
            "redirect_uri": redirect,
            "code_verifier": verifier,
            "resource": MCP,
        },
    )
    assert answer.status_code == 200, answer.text
    claims = _claims(sandbox, answer.json()["access_token"])
    assert (claims["aud"], claims["client_id"]) == (MCP, "mcp-inspector")
    assert claims["scope"] == "photos.read photos.print"


def test_authlib_sends_resource_on_authorize_and_token(world: Sandbox) -> None:
    client = OAuth2Client(
        client_id=APP,
        client_secret=APP_SECRET,
        redirect_uri=REDIRECT,
        scope="openid photos.read",
        code_challenge_method="S256",
        timeout=10,
    )
    verifier = Pkce.new().verifier
    url, state = client.create_authorization_url(
        world.issuer + "/authorize", code_verifier=verifier, resource=MCP
    )
    query = _callback(world, url)
    assert query["state"] == state
    token = client.fetch_token(
        world.issuer + "/token",
        authorization_response=f"{REDIRECT}?{httpx.QueryParams(query)}",
        code_verifier=verifier,
        resource=MCP,
    )
    assert _claims(world, token["access_token"])["aud"] == MCP
    refreshed = client.refresh_token(world.issuer + "/token", resource=MCP)
    assert _claims(world, refreshed["access_token"])["aud"] == MCP


# -- opaque access tokens keep their audience in the token row ---------------------------------


@pytest.fixture(scope="module")
def opaque(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sandbox]:
    running = start_sandbox(tmp_path_factory.mktemp("opaque"), "--access-token-format", "opaque")
    running.add_client(APP, APP_SECRET, (REDIRECT,), scopes=SCOPES)
    running.store().add_resource(
        Resource(PHOTOS, "Photos API", frozenset({"photos.read"})), time.time()
    )
    yield running
    running.stop()


def test_introspection_gives_an_opaque_tokens_aud(opaque: Sandbox) -> None:
    code, verifier = _code(opaque, ("resource", MCP), ("resource", PHOTOS))
    body = _redeem(opaque, code, verifier).json()
    assert _introspect(opaque, body["access_token"])["aud"] == [MCP, PHOTOS]
    narrowed = _refresh(opaque, body["refresh_token"], ("resource", MCP)).json()
    assert _introspect(opaque, narrowed["access_token"])["aud"] == MCP
    code, verifier = _code(opaque)
    plain = _redeem(opaque, code, verifier).json()
    assert _introspect(opaque, plain["access_token"])["aud"] == opaque.issuer + "/api"


def test_the_check_reference_lists_the_rfc8707_checks(world: Sandbox) -> None:
    page = httpx.get(world.issuer + "/inspector/checks")
    assert page.status_code == 200
    for title in (
        "Each resource is an absolute URI, without a fragment, of a resource registered here",
        "Every scope asked for is served by one of the resources named (or by the server)",
        "Each resource named with the code is one the authorization request named",
        "A refresh names only resources the grant holds: it may narrow, never widen",
    ):
        assert title in page.text
    assert "RFC 8707 §2.2" in page.text


# -- client credentials ---------------------------------------------------------------------

BATCH, BATCH_SECRET = "rs-batch", "rs-batch-secret-0123456789abcdef"


@pytest.mark.parametrize(
    ("pairs", "status", "expected"),
    [
        ([("resource", MCP)], 200, (MCP, "photos.print photos.read")),
        ([("resource", PHOTOS)], 200, (PHOTOS, "photos.read")),
        (
            [("resource", MCP), ("resource", PHOTOS)],
            200,
            ([MCP, PHOTOS], "photos.print photos.read"),
        ),
        ([("resource", PHOTOS), ("scope", "photos.print")], 400, "invalid_scope"),
        ([("resource", UNREGISTERED)], 400, "invalid_target"),
        ([("resource", "http://127.0.0.1:8790/mcp#x")], 400, "invalid_target"),
        ([], 200, (None, "photos.print photos.read")),
    ],
)
def test_client_credentials_with_resource(
    world: Sandbox, pairs: list[tuple[str, str]], status: int, expected: object
) -> None:
    if world.store().client(BATCH) is None:
        world.add_client(
            BATCH,
            BATCH_SECRET,
            (),
            scopes="photos.read photos.print",
            grants=("client_credentials",),
        )
    form: dict[str, list[str]] = {"grant_type": ["client_credentials"]}
    for name, value in pairs:
        form.setdefault(name, []).append(value)
    answer = httpx.post(world.issuer + "/token", auth=(BATCH, BATCH_SECRET), data=form)
    assert answer.status_code == status, answer.text
    if status != 200:
        assert answer.json()["error"] == expected
        return
    claims = _claims(world, answer.json()["access_token"])
    assert isinstance(expected, tuple)
    aud, scope = expected
    assert claims["aud"] == (aud or world.issuer + "/api")
    assert claims["scope"] == scope


def _consent_page(sandbox: Sandbox, client_id: str, *pairs: tuple[str, str]) -> str:
    url, _ = _authorize_url(sandbox.issuer, list(pairs), client_id)
    agent = UserAgent("alice", sandbox.password("alice"))
    try:
        visit = agent.navigate(url, stop_at=lambda u: "/consent?" in u)
        assert visit.stopped_at is not None, visit.response.text[:300]
        return agent.http.get(visit.stopped_at).text
    finally:
        agent.close()


def test_the_consent_page_names_the_resources_asked_for(world: Sandbox) -> None:
    world.add_client("consent-app", APP_SECRET, (REDIRECT,), scopes=SCOPES)
    page = _consent_page(world, "consent-app", ("resource", MCP), ("resource", PHOTOS))
    assert (
        f'<p>only at <strong>Photo MCP server</strong> <span class="muted">({MCP})</span>, '
        f'<strong>Photos API</strong> <span class="muted">({PHOTOS})</span>: '
        "the key opens nothing else.</p>"
    ) in page
    world.add_client("consent-app-2", APP_SECRET, (REDIRECT,), scopes=SCOPES)
    assert "only at" not in _consent_page(world, "consent-app-2")

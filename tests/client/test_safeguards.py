"""Every safeguard of the photo-printer app refuses a bad callback with a clear page and no
session, in both variants: no state, wrong state, replayed state, provider errors, and (with
a provider that crafts ID tokens) a wrong nonce or a signature by another key."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from joserfc.jwk import RSAKey

from tests.client.conftest import running_app
from tests.client.fake_provider import FakeProvider
from tests.support.sandbox import Sandbox
from valetkey.client.config import ClientConfig
from valetkey.client.server import BackgroundServer
from valetkey.useragent.agent import UserAgent


def _stop_at_callback(
    app: BackgroundServer, sandbox: Sandbox, user: str = "alice"
) -> tuple[UserAgent, str]:
    agent = UserAgent(user, sandbox.password(user))
    visit = agent.navigate(
        app.url + "/login", stop_at=lambda url: url.startswith(app.url + "/callback")
    )
    assert visit.stopped_at is not None
    return agent, visit.stopped_at


def _no_session(agent: UserAgent, app: BackgroundServer) -> None:
    photos = agent.http.get(app.url + "/photos")
    assert photos.status_code == 303
    assert photos.headers["location"] == "/"


def _drop(url: str, name: str) -> str:
    parsed = httpx.URL(url)
    return str(parsed.copy_remove_param(name))


def test_happy_path_signs_in(app: BackgroundServer, sandbox: Sandbox) -> None:
    agent, callback = _stop_at_callback(app, sandbox)
    done = agent.http.get(callback)
    assert done.status_code == 303
    assert done.headers["location"] == "/photos"  # a clean URL (LC-17)
    assert done.headers["referrer-policy"] == "no-referrer"
    assert done.headers["cache-control"] == "no-store"
    page = agent.http.get(app.url + "/photos")
    assert "Signed in as <strong>Alice Liddell</strong>" in page.text
    assert page.text.count('class="photo"') == 6


def test_callback_without_state(app: BackgroundServer, sandbox: Sandbox) -> None:
    agent, callback = _stop_at_callback(app, sandbox)
    response = agent.http.get(_drop(callback, "state"))
    assert response.status_code == 400
    assert "<h1>" in response.text
    _no_session(agent, app)


def test_callback_with_wrong_state(app: BackgroundServer, sandbox: Sandbox) -> None:
    agent, callback = _stop_at_callback(app, sandbox)
    wrong = str(httpx.URL(callback).copy_set_param("state", "not-the-state-we-sent"))
    response = agent.http.get(wrong)
    assert response.status_code == 400
    _no_session(agent, app)


def test_replayed_callback(app: BackgroundServer, sandbox: Sandbox) -> None:
    """The state works once: the same callback again, in the same or another browser, fails."""
    agent, callback = _stop_at_callback(app, sandbox)
    assert agent.http.get(callback).status_code == 303
    assert agent.http.get(callback).status_code == 400
    other = UserAgent("alice", sandbox.password("alice"))
    try:
        assert other.http.get(callback).status_code == 400
        _no_session(other, app)
    finally:
        other.close()


@pytest.mark.parametrize("error", ["access_denied", "<script>alert(1)</script>"])
def test_error_response_is_a_clear_page(
    app: BackgroundServer, sandbox: Sandbox, error: str
) -> None:
    agent, callback = _stop_at_callback(app, sandbox)
    state = httpx.URL(callback).params["state"]
    response = agent.http.get(
        app.url + "/callback",
        params={"error": error, "error_description": "<b>markup</b>", "state": state},
    )
    assert response.status_code == 400
    assert "Sign-in was not completed" in response.text
    assert "<script>" not in response.text  # escaped (LC-20)
    assert "&lt;script&gt;" in response.text or error == "access_denied"
    _no_session(agent, app)


def test_wrong_iss_is_refused(app: BackgroundServer, sandbox: Sandbox) -> None:
    """RFC 9207: the sandbox says it sends iss, so a response naming another issuer is refused."""
    agent, callback = _stop_at_callback(app, sandbox)
    mixed = str(httpx.URL(callback).copy_set_param("iss", "https://evil.example"))
    response = agent.http.get(mixed)
    assert response.status_code == 400
    assert "wrong provider" in response.text
    _no_session(agent, app)


@pytest.fixture
def fake() -> Iterator[FakeProvider]:
    provider = FakeProvider().start()
    yield provider
    provider.stop()


def _fake_config(fake: FakeProvider, origin: str) -> ClientConfig:
    return ClientConfig(
        provider="oidc",
        client_id="fake-client",
        client_secret="fake-secret",
        redirect_uri=origin + "/callback",
        discovery_url=fake.issuer + "/.well-known/openid-configuration",
        api_base=fake.issuer,
    )


@pytest.mark.parametrize("variant", ["steps", "authlib"])
@pytest.mark.parametrize("bad", ["wrong nonce", "other key", "wrong audience", "expired"])
def test_bad_id_token_is_refused(fake: FakeProvider, variant: str, bad: str) -> None:
    other = RSAKey.generate_key(2048, auto_kid=True)

    def make(claims: dict[str, object]) -> str:
        if bad == "wrong nonce":
            claims["nonce"] = "attacker-nonce"
        if bad == "wrong audience":
            claims["aud"] = "someone-else"
        if bad == "expired":
            claims["exp"] = int(claims["iat"]) - 3600  # type: ignore[call-overload]
        return fake.sign(claims, other if bad == "other key" else None)

    fake.make_id_token = make
    with running_app(variant, lambda origin: _fake_config(fake, origin)) as server:
        agent = UserAgent("nobody", "nothing")
        response = agent.navigate(server.url + "/login").response
        assert response.status_code == 400, response.text
        _no_session(agent, server)
        agent.close()


@pytest.mark.parametrize("variant", ["steps", "authlib"])
def test_good_id_token_from_the_fake_is_accepted(fake: FakeProvider, variant: str) -> None:
    """The control for the test above: the same fake, an honest token, a session."""
    with running_app(variant, lambda origin: _fake_config(fake, origin)) as server:
        agent = UserAgent("nobody", "nothing")
        final = agent.navigate(server.url + "/login").response
        assert final.status_code == 200
        assert "Signed in as <strong>Fake User</strong>" in final.text
        agent.close()

"""An example: test an OAuth client against the valetkey sandbox, with no network.

Run it with `pytest docs/examples/test_sign_in_with_sandbox.py` after `pip install valetkey`:
the `valetkey_sandbox` fixture comes with the package.
"""

import httpx
from authlib.integrations.httpx_client import OAuth2Client

REDIRECT = "http://127.0.0.1:5000/callback"


def test_my_app_can_sign_in_and_read_photos(valetkey_sandbox):
    app = valetkey_sandbox.add_client("my-app", [REDIRECT], scopes="openid profile photos.read")
    valetkey_sandbox.add_user("carol", "carol-password-123", name="Carol Example")
    browser = valetkey_sandbox.login_as("carol", "carol-password-123")

    oauth = OAuth2Client(app.client_id, app.client_secret, redirect_uri=REDIRECT,
                         scope="openid profile photos.read", code_challenge_method="S256")
    verifier = "a-long-random-pkce-verifier-of-at-least-43-characters-0123456789"
    url, state = oauth.create_authorization_url(
        valetkey_sandbox.issuer + "/authorize", nonce="n-123", code_verifier=verifier)

    # the signed-in browser consents and is sent back to the app with a code
    visit = browser.navigate(url, stop_at=lambda next_url: next_url.startswith(REDIRECT))
    token = oauth.fetch_token(valetkey_sandbox.issuer + "/token",
                              authorization_response=visit.stopped_at,
                              code_verifier=verifier, state=state)

    assert token["token_type"] == "Bearer"
    profile = httpx.get(valetkey_sandbox.issuer + "/api/user",
                        headers={"Authorization": f"Bearer {token['access_token']}"})
    assert profile.json()["name"] == "Carol Example"

    # the admin API steers the sandbox: make the next two token requests fail
    valetkey_sandbox.admin.post("/faults", json={"path": "/token", "count": 2, "status": 503})
    failing = httpx.post(valetkey_sandbox.issuer + "/token", data={"grant_type": "x"})
    assert failing.status_code == 503

"""The GitHub profile against the sandbox's GitHub-shaped endpoints; configuration errors."""

from __future__ import annotations

import secrets
from pathlib import Path

import httpx
import pytest

from tests.client.conftest import running_app
from tests.support.sandbox import REDIRECT, Sandbox
from valetkey.client.config import ClientConfig, ConfigError, load_config
from valetkey.useragent.agent import UserAgent


@pytest.mark.parametrize("variant", ["steps", "authlib"])
def test_github_profile_offline(sandbox: Sandbox, variant: str) -> None:
    def config(origin: str) -> ClientConfig:
        client_id, secret = f"gh-{secrets.token_hex(4)}", secrets.token_urlsafe(32)
        sandbox.add_client(client_id, secret, (origin + "/callback",), scopes="read:user")
        return ClientConfig(
            provider="github",
            client_id=client_id,
            client_secret=secret,
            redirect_uri=origin + "/callback",
            scope="read:user",
            github_url=sandbox.issuer,
            github_api_url=sandbox.issuer,
        )

    with running_app(variant, config) as app:
        agent = UserAgent("alice", sandbox.password("alice"))
        final = agent.navigate(app.url + "/login").response
        agent.close()
    assert final.status_code == 200, final.text
    assert "Signed in as <strong>Alice Liddell</strong>" in final.text
    assert "GitHub has no photos API" in final.text


def test_github_token_endpoint_answers_form_or_json(sandbox: Sandbox, agent: UserAgent) -> None:
    code, auth = agent.code("alice", sandbox.password("alice"))
    data = {"code": code, "redirect_uri": REDIRECT, "code_verifier": auth.verifier}
    form = httpx.post(
        sandbox.issuer + "/login/oauth/access_token",
        data=data,
        auth=("photo-printer", sandbox.secret),
    )
    assert form.status_code == 200
    assert form.headers["content-type"] == "application/x-www-form-urlencoded"
    token = dict(httpx.QueryParams(form.text))["access_token"]
    user = httpx.get(sandbox.issuer + "/user", headers={"authorization": f"Bearer {token}"})
    assert user.json()["login"] == "alice"
    code, auth = agent.code("alice", sandbox.password("alice"))
    json_answer = httpx.post(
        sandbox.issuer + "/login/oauth/access_token",
        data={**data, "code": code, "code_verifier": auth.verifier},
        headers={"accept": "application/json"},
        auth=("photo-printer", sandbox.secret),
    )
    assert json_answer.json()["token_type"] == "Bearer"


def test_config_from_env_file(tmp_path: Path) -> None:
    env_file = tmp_path / ".env"
    env_file.write_text(
        "PHOTO_PRINTER_CLIENT_ID=from-file\nPHOTO_PRINTER_CLIENT_SECRET=s3\n"
        "PHOTO_PRINTER_REDIRECT_URI=http://127.0.0.1:8500/callback\n"
        "PHOTO_PRINTER_DISCOVERY_URL=http://127.0.0.1:8400/.well-known/x\n"
    )
    config = load_config(environ={"PHOTO_PRINTER_CLIENT_ID": "from-env"}, env_file=env_file)
    assert config.client_id == "from-env"
    assert config.client_secret == "s3"
    assert config.scope == "openid profile photos.read"
    assert "s3" not in repr(config)


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({}, "PHOTO_PRINTER_CLIENT_ID is not set"),
        (
            {
                "PHOTO_PRINTER_CLIENT_ID": "a",
                "PHOTO_PRINTER_CLIENT_SECRET": "b",
                "PHOTO_PRINTER_REDIRECT_URI": "c",
            },
            "PHOTO_PRINTER_DISCOVERY_URL is not set",
        ),
        ({"PHOTO_PRINTER_PROVIDER": "facebook"}, "expected sandbox, oidc or github"),
    ],
)
def test_config_errors(env: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        load_config(environ=env, env_file=None)

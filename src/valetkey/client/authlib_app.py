"""The photo-printer app with Authlib's Flask client.

Authlib makes and checks `state`, adds a `nonce` for OpenID scopes and checks it in the ID
token, and does PKCE because `code_challenge_method` is set. Two gaps of Authlib 1.9 are
closed here by hand: the ID-token algorithms are pinned to strong asymmetric ones (it would
accept `alg=none` if discovery listed it), and the RFC 9207 `iss` parameter is checked.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
from authlib.common.errors import AuthlibBaseError
from authlib.integrations.flask_client import OAuth
from flask import Flask, request
from joserfc.errors import JoseError
from werkzeug.wrappers import Response

from valetkey.client.browsers import SignedIn
from valetkey.client.config import ClientConfig
from valetkey.client.provider import STRONG_ALGS
from valetkey.client.web import SignInFlow, SignInRefused, add_shell_routes, new_app

SessionHook = Callable[[Any], None]


def _register(oauth: OAuth, config: ClientConfig, hook: SessionHook | None) -> Any:
    common: dict[str, Any] = {
        "client_id": config.client_id,
        "client_secret": config.client_secret,
        "client_kwargs": {
            "scope": config.scope,
            "code_challenge_method": "S256",
            "default_timeout": 10,
            "token_endpoint_auth_method": "client_secret_basic",
        },
        "compliance_fix": hook,
    }
    if config.provider == "github":
        return oauth.register(
            "provider",
            authorize_url=f"{config.github_url}/login/oauth/authorize",
            access_token_url=f"{config.github_url}/login/oauth/access_token",
            api_base_url=config.github_api_url + "/",
            **common,
        )
    return oauth.register("provider", server_metadata_url=config.discovery_url, **common)


def _pin_algorithms(remote: Any) -> dict[str, Any]:
    metadata: dict[str, Any] = remote.load_server_metadata()
    offered = metadata.get("id_token_signing_alg_values_supported") or ["RS256"]
    metadata["id_token_signing_alg_values_supported"] = [a for a in STRONG_ALGS if a in offered]
    return metadata


class AuthlibFlow(SignInFlow):
    """Sign-in through Authlib's Flask client; the app shell does the rest."""

    def __init__(
        self, app: Flask, config: ClientConfig, http: httpx.Client, hook: SessionHook | None
    ) -> None:
        super().__init__(config, http)
        self.remote = _register(OAuth(app), config, hook)

    def start_sign_in(self) -> Response:
        if self.config.provider != "github":
            _pin_algorithms(self.remote)
        response: Response = self.remote.authorize_redirect(self.config.redirect_uri)
        return response

    def finish_sign_in(self) -> SignedIn:
        if request.args.get("error"):
            raise SignInRefused(
                "Sign-in was not completed",
                f"The provider answered: {request.args['error']}. Nothing was shared.",
            )
        if self.config.provider != "github":
            metadata = _pin_algorithms(self.remote)
            if metadata.get("authorization_response_iss_parameter_supported") and request.args.get(
                "iss"
            ) != metadata.get("issuer"):  # RFC 9207 §2.4
                raise SignInRefused(
                    "The answer came from the wrong provider",
                    "The iss parameter does not name the provider you chose.",
                )
        try:
            return _sign_in(self.remote, self.config)
        except (AuthlibBaseError, JoseError, KeyError, ValueError) as exc:
            raise SignInRefused(
                "This sign-in was refused",
                f"The response failed a check ({type(exc).__name__}). "
                "Start again from the home page.",
            ) from None


def create_app(
    config: ClientConfig, http: httpx.Client | None = None, session_hook: SessionHook | None = None
) -> Flask:
    """The Authlib photo-printer app; `session_hook` sees each requests session Authlib makes."""
    client = http or httpx.Client(timeout=10.0, verify=True)
    app = new_app(config, "with Authlib")
    add_shell_routes(app, config, AuthlibFlow(app, config, client, session_hook))
    return app


def _sign_in(remote: Any, config: ClientConfig) -> SignedIn:
    """State (and, with the ID token, nonce, signature, iss, aud, exp) checked by Authlib."""
    token = remote.authorize_access_token()
    access = str(token["access_token"])
    if config.provider == "github":
        user = remote.get("user", token=token).json()
        return SignedIn(
            f"github#{user['id']}",
            str(user.get("name") or user["login"]),
            str(user["login"]),
            access,
        )
    claims = token.get("userinfo")  # present only when the ID token was verified
    if "id_token" not in token or not claims:
        raise ValueError("no verified ID token")
    issuer = remote.load_server_metadata()["issuer"]
    name = str(claims.get("name") or claims.get("preferred_username") or claims["sub"])
    return SignedIn(
        f"{issuer}#{claims['sub']}", name, str(claims.get("preferred_username", "")), access
    )

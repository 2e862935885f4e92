"""A provider that answers the token request with whatever ID token the test crafts.

Only for the client's tests: it lets a test send an ID token with a wrong nonce or signed by
a key the app must not trust, which the real sandbox never would.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from flask import Flask, redirect, request
from joserfc import jws
from joserfc.jwk import RSAKey
from werkzeug.wrappers import Response

from valetkey.client.server import BackgroundServer, free_socket

IdTokenMaker = Callable[[dict[str, Any]], str]


@dataclass
class FakeProvider:
    key: RSAKey = field(default_factory=lambda: RSAKey.generate_key(2048, auto_kid=True))
    issuer: str = ""
    make_id_token: IdTokenMaker | None = None
    last_authorize: dict[str, str] = field(default_factory=dict)
    server: BackgroundServer | None = None

    def sign(self, claims: dict[str, Any], key: RSAKey | None = None) -> str:
        signer = key or self.key
        header = {"alg": "RS256", "kid": signer.kid}
        return jws.serialize_compact(
            header, json.dumps(claims).encode(), signer, algorithms=["RS256"]
        )

    def good_claims(self, client_id: str) -> dict[str, Any]:
        now = int(time.time())
        return {
            "iss": self.issuer,
            "aud": client_id,
            "sub": "user-1",
            "iat": now,
            "exp": now + 300,
            "nonce": self.last_authorize.get("nonce", ""),
            "name": "Fake User",
        }

    def start(self) -> FakeProvider:
        sock = free_socket()
        self.issuer = f"http://127.0.0.1:{sock.getsockname()[1]}"
        self.server = BackgroundServer(self._app(), sock).start()
        return self

    def stop(self) -> None:
        if self.server is not None:
            self.server.stop()

    def _app(self) -> Flask:
        app = Flask(__name__)
        fake = self

        @app.get("/.well-known/openid-configuration")
        def discovery() -> dict[str, Any]:
            return {
                "issuer": fake.issuer,
                "authorization_endpoint": fake.issuer + "/authorize",
                "token_endpoint": fake.issuer + "/token",
                "jwks_uri": fake.issuer + "/jwks",
                "id_token_signing_alg_values_supported": ["RS256"],
                "authorization_response_iss_parameter_supported": True,
            }

        @app.get("/jwks")
        def jwks() -> dict[str, Any]:
            return {"keys": [fake.key.as_dict(private=False)]}

        @app.get("/authorize")
        def authorize() -> Response:
            fake.last_authorize = dict(request.args)
            query = {"code": "fake-code", "state": request.args["state"], "iss": fake.issuer}
            return redirect(f"{request.args['redirect_uri']}?{urlencode(query)}", 302)

        @app.post("/token")
        def token() -> dict[str, Any]:
            maker = fake.make_id_token or (lambda claims: fake.sign(claims))
            claims = fake.good_claims(
                request.authorization.username if request.authorization else ""
            )
            return {
                "access_token": "fake-access",
                "token_type": "Bearer",
                "expires_in": 60,
                "id_token": maker(claims),
            }

        return app

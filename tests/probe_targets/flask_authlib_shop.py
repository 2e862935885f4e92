"""A Flask shop front with Authlib's client; the name shows on the landing page. Secure."""

from __future__ import annotations

from typing import Any

from authlib.common.errors import AuthlibBaseError
from authlib.integrations.flask_client import OAuth
from flask import Flask, redirect, session
from flask import request as req

from tests.probe_targets.kit import Cfg

FAILS: frozenset[str] = frozenset()
SIGNAL = "name on the landing page"


def build(cfg: Cfg) -> Flask:
    app = Flask(__name__)
    app.secret_key = "shop-" + cfg.client_id
    app.config.update(SESSION_COOKIE_SAMESITE="Lax")
    oauth = OAuth(app)
    remote: Any = oauth.register(
        "idp",
        client_id=cfg.client_id,
        client_secret=cfg.secret,
        server_metadata_url=cfg.issuer + "/.well-known/openid-configuration",
        client_kwargs={"scope": cfg.scope, "code_challenge_method": "S256"},
    )

    @app.get("/")
    def index() -> str:
        user = session.get("user")
        if user:
            return f"<h1>Shop</h1><p>Hello {user['preferred_username']}</p>"
        return '<h1>Shop</h1><a href="/login">Sign in</a>'

    @app.get("/login")
    def login() -> Any:
        meta = remote.load_server_metadata()
        meta["id_token_signing_alg_values_supported"] = ["RS256", "ES256"]
        return remote.authorize_redirect(cfg.redirect_uri)

    @app.get("/callback")
    def callback() -> Any:
        meta = remote.load_server_metadata()
        if req.args.get("error") or req.args.get("iss") != meta["issuer"]:
            return "Sign-in failed. <a href='/'>Back</a>", 400
        try:
            token = remote.authorize_access_token()
        except (AuthlibBaseError, ValueError, KeyError) as exc:
            return f"Sign-in refused ({type(exc).__name__})", 400
        info = token.get("userinfo")
        if not info:
            return "No identity", 400
        session.clear()
        session["user"] = {"sub": info["sub"], "preferred_username": info.get("preferred_username")}
        answer = redirect("/", 303)
        answer.headers.update({"Referrer-Policy": "no-referrer", "Cache-Control": "no-store"})
        return answer

    @app.post("/logout")
    def logout() -> Any:
        session.clear()
        return redirect("/", 303)

    return app

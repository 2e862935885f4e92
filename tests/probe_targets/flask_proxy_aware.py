"""Travel (Flask behind a proxy, the developer thought): the redirect_uri is built from
X-Forwarded-Host, and the app asks for offline_access it never uses. Name on the landing."""

from __future__ import annotations

import secrets

from flask import Flask, redirect, request, session

from tests.probe_targets.kit import SAFE_HEADERS, Cfg, Provider, Refused, pkce_pair

FAILS = frozenset({"LC-10", "LC-11"})
SCOPE = "openid profile email offline_access"


def build(cfg: Cfg) -> Flask:
    app = Flask("travel")
    app.secret_key = secrets.token_hex(24)
    app.config["SESSION_COOKIE_SAMESITE"] = "Lax"
    idp = Provider(cfg)

    def callback_url() -> str:
        host = request.headers.get("X-Forwarded-Host") or request.host
        return f"http://{host}/callback"

    @app.get("/")
    def trips() -> str:
        return f"Trips of {session['me']}" if "me" in session else "<a href=/login>Sign in</a>"

    @app.get("/login")
    def login():  # type: ignore[no-untyped-def]
        verifier, challenge = pkce_pair()
        state, nonce = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
        session["login"] = {"state": state, "nonce": nonce, "verifier": verifier}
        return redirect(
            idp.authorize_url(
                redirect_uri=callback_url(),
                state=state,
                nonce=nonce,
                code_challenge=challenge,
                code_challenge_method="S256",
            )
        )

    @app.get("/callback")
    def callback():  # type: ignore[no-untyped-def]
        login = session.pop("login", None)
        if login is None or request.args.get("state") != login["state"]:
            return "Bad sign-in", 400
        if "code" not in request.args:
            return "Sign-in was cancelled", 400
        try:
            idp.check_iss(request.args)
            tokens = idp.exchange(request.args["code"], login["verifier"], callback_url())
            claims = idp.verify(tokens.get("id_token"), login["nonce"])
        except Refused:
            return "Bad sign-in", 400
        session["me"] = claims["preferred_username"]
        return redirect("/", 303), SAFE_HEADERS

    return app

"""Music (Flask, single-page front end). The ID token's payload is read without checking its
signature; with no ID token the user comes from userinfo; and the access token is handed to
the page's script in the URL fragment (/welcome#at=...). The name shows on /welcome."""

from __future__ import annotations

import secrets

from flask import Flask, redirect, request, session

from tests.probe_targets.kit import (
    SAFE_HEADERS,
    Cfg,
    Provider,
    Refused,
    check_claims,
    pkce_pair,
    unverified_claims,
)

FAILS = frozenset({"LC-14", "LC-16", "LC-18"})


def build(cfg: Cfg) -> Flask:
    app = Flask("music")
    app.secret_key = secrets.token_hex(16)
    app.config["SESSION_COOKIE_SAMESITE"] = "Lax"
    idp = Provider(cfg)

    @app.get("/")
    def home() -> str:
        return "<a href='/welcome'>Listen</a>"

    @app.get("/welcome")
    def welcome():  # type: ignore[no-untyped-def]
        if "listener" not in session:
            return redirect("/login")
        return f"<p>Now playing for {session['listener']}</p><script>/* reads #at */</script>"

    @app.get("/login")
    def login():  # type: ignore[no-untyped-def]
        verifier, challenge = pkce_pair()
        session["p"] = (secrets.token_urlsafe(32), secrets.token_urlsafe(32), verifier)
        state, nonce, _ = session["p"]
        return redirect(
            idp.authorize_url(
                state=state, nonce=nonce, code_challenge=challenge, code_challenge_method="S256"
            )
        )

    @app.get("/callback")
    def callback():  # type: ignore[no-untyped-def]
        pending = session.pop("p", None)
        if not pending or request.args.get("state") != pending[0] or "code" not in request.args:
            return "Try again", 400
        try:
            idp.check_iss(request.args)
            tokens = idp.exchange(request.args["code"], pending[2])
            if tokens.get("id_token"):
                claims = check_claims(unverified_claims(tokens["id_token"]), idp, pending[1], True)
            else:
                claims = idp.userinfo(tokens["access_token"])
        except Refused:
            return "Try again", 400
        session["listener"] = claims["preferred_username"]
        return redirect(f"/welcome#at={tokens['access_token']}", 303), SAFE_HEADERS

    return app

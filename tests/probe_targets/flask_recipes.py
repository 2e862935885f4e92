"""Recipes (Flask, hand-written flow). The developer kept PKCE and the nonce but never looks at
`state`: the verifier in the session was thought to be enough. The name shows on /profile.
A redemption in a stranger's browser is refused by the provider (no verifier): not LC-06."""

from __future__ import annotations

import secrets

from flask import Flask, redirect, request, session

from tests.probe_targets.kit import SAFE_HEADERS, Cfg, Provider, Refused, pkce_pair

FAILS = frozenset({"LC-02", "LC-03"})


def build(cfg: Cfg) -> Flask:
    app = Flask("recipes")
    app.secret_key = secrets.token_hex(16)
    app.config["SESSION_COOKIE_SAMESITE"] = "Lax"
    idp = Provider(cfg)

    @app.route("/")
    def home() -> str:
        return "<h1>Recipes</h1><a href='/profile'>Profile</a> <a href='/login'>Sign in</a>"

    @app.route("/profile")
    def profile():  # type: ignore[no-untyped-def]
        if "name" not in session:
            return redirect("/login")
        return f"<p>Cook: {session['name']}</p>"

    @app.route("/login")
    def login():  # type: ignore[no-untyped-def]
        verifier, challenge = pkce_pair()
        session["verifier"], session["nonce"] = verifier, secrets.token_urlsafe(24)
        return redirect(
            idp.authorize_url(
                state=secrets.token_urlsafe(24),
                nonce=session["nonce"],
                code_challenge=challenge,
                code_challenge_method="S256",
            )
        )

    @app.route("/callback")
    def callback():  # type: ignore[no-untyped-def]
        if "name" in session:  # already in: a reload of the callback page
            return redirect("/profile", 303)
        if "code" not in request.args:
            return "Sign-in cancelled.", 400
        try:
            idp.check_iss(request.args)
            tokens = idp.exchange(request.args["code"], session.pop("verifier", None))
            claims = idp.verify(tokens.get("id_token"), session.pop("nonce", None))
        except Refused:
            return "Could not sign you in.", 400
        session["name"] = claims["preferred_username"]
        return redirect("/profile", 303), SAFE_HEADERS

    return app

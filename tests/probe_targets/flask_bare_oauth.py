"""Pantry (Flask, requests-oauthlib era code): state is checked, but no PKCE, no nonce.
An injected code signs the victim in as the attacker. Needs a provider without mandatory
PKCE (the zoo runs it against `--lab no-pkce`). The name shows on /profile."""

from __future__ import annotations

import secrets

from flask import Flask, abort, redirect, request, session

from tests.probe_targets.kit import SAFE_HEADERS, Cfg, Provider, Refused

FAILS = frozenset({"LC-07", "LC-08", "LC-15"})
SANDBOX = "no-pkce"


def build(cfg: Cfg) -> Flask:
    app = Flask("pantry")
    app.secret_key = secrets.token_bytes(16)
    app.config.update(SESSION_COOKIE_SAMESITE="Strict")
    idp = Provider(cfg)

    @app.get("/")
    def root() -> str:
        return "Pantry. <a href='/profile'>my pantry</a>"

    @app.get("/profile")
    def profile() -> str:
        if not session.get("uid"):
            abort(401)
        return f"{session['uid']}'s pantry"

    @app.get("/login")
    def login():  # type: ignore[no-untyped-def]
        session["oauth_state"] = secrets.token_urlsafe(32)
        return redirect(idp.authorize_url(state=session["oauth_state"]))

    @app.get("/callback")
    def callback():  # type: ignore[no-untyped-def]
        expected = session.pop("oauth_state", None)
        if not expected or request.args.get("state") != expected or not request.args.get("code"):
            abort(403)
        try:
            idp.check_iss(request.args)
            claims = idp.verify(
                idp.exchange(request.args["code"], None).get("id_token"), None, check_nonce=False
            )
        except Refused:
            abort(403)
        session["uid"] = claims["preferred_username"]
        return redirect("/profile", 303), SAFE_HEADERS

    return app

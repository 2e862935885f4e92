"""Bookmarks (Flask). Everything is checked, but the state is 8 hex digits (32 bits)."""

from __future__ import annotations

import hmac
import secrets

from flask import Flask, redirect, request, session

from tests.probe_targets.kit import SAFE_HEADERS, Cfg, Provider, Refused, pkce_pair

FAILS = frozenset({"LC-01"})


def build(cfg: Cfg) -> Flask:
    app = Flask("bookmarks")
    app.secret_key = secrets.token_hex(16)
    app.config["SESSION_COOKIE_SAMESITE"] = "Lax"
    idp = Provider(cfg)

    @app.get("/")
    def index() -> str:
        if session.get("user"):
            return f"Bookmarks for {session['user']}"
        return "<a href='/login'>Sign in to see bookmarks</a>"

    @app.get("/login")
    def login():  # type: ignore[no-untyped-def]
        verifier, challenge = pkce_pair()
        state, nonce = secrets.token_hex(4), secrets.token_urlsafe(16)
        session["pending"] = [state, nonce, verifier]
        url = idp.authorize_url(
            state=state, nonce=nonce, code_challenge=challenge, code_challenge_method="S256"
        )
        return redirect(url)

    @app.get("/callback")
    def callback():  # type: ignore[no-untyped-def]
        pending = session.pop("pending", None)
        sent = request.args.get("state", "")
        if not pending or not hmac.compare_digest(sent, pending[0]) or "code" not in request.args:
            return "That sign-in link is not valid.", 400
        try:
            idp.check_iss(request.args)
            claims = idp.verify(
                idp.exchange(request.args["code"], pending[2]).get("id_token"), pending[1]
            )
        except Refused:
            return "That sign-in did not work.", 400
        session["user"] = claims["preferred_username"]
        return redirect("/", 303), SAFE_HEADERS

    return app

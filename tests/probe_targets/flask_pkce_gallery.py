"""Gallery (Flask). State is checked for presence only, and the callback renders the welcome
page itself instead of redirecting to a clean URL. The name shows on that page and on /."""

from __future__ import annotations

import secrets

from flask import Flask, redirect, request, session

from tests.probe_targets.kit import Cfg, Provider, Refused, pkce_pair

FAILS = frozenset({"LC-03", "LC-17"})


def build(cfg: Cfg) -> Flask:
    app = Flask("gallery")
    app.secret_key = secrets.token_hex(16)
    app.config["SESSION_COOKIE_SAMESITE"] = "Lax"
    idp = Provider(cfg)

    @app.get("/")
    def index() -> str:
        who = session.get("who")
        return f"<p>Gallery of {who}</p>" if who else "<a href='/login'>Sign in</a>"

    @app.get("/login")
    def login():  # type: ignore[no-untyped-def]
        v, c = pkce_pair()
        session["flow"] = {"v": v, "n": secrets.token_urlsafe(20), "s": secrets.token_urlsafe(20)}
        f = session["flow"]
        return redirect(
            idp.authorize_url(
                state=f["s"], nonce=f["n"], code_challenge=c, code_challenge_method="S256"
            )
        )

    @app.get("/callback")
    def callback():  # type: ignore[no-untyped-def]
        flow = session.pop("flow", None)
        if not flow or not request.args.get("state") or "code" not in request.args:
            return "Sign-in failed", 400
        try:
            idp.check_iss(request.args)
            tokens = idp.exchange(request.args["code"], flow["v"])
            claims = idp.verify(tokens.get("id_token"), flow["n"])
        except Refused:
            return "Sign-in failed", 400
        session["who"] = claims["preferred_username"]
        return f"<h1>Welcome back, {session['who']}!</h1><a href='/'>Your gallery</a>"

    return app

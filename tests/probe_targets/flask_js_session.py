"""Notes-to-self (Flask). The session cookie is readable by scripts (HttpOnly off, "so the
front end can see it"), and /logout follows ?next= anywhere. Name on the landing page."""

from __future__ import annotations

import secrets

from flask import Flask, redirect, request, session

from tests.probe_targets.kit import SAFE_HEADERS, Cfg, Provider, Refused, pkce_pair

FAILS = frozenset({"LC-12", "LC-19"})


def build(cfg: Cfg) -> Flask:
    app = Flask("jsnotes")
    app.secret_key = secrets.token_hex(16)
    app.config.update(SESSION_COOKIE_HTTPONLY=False, SESSION_COOKIE_SAMESITE="Lax")
    idp = Provider(cfg)

    @app.get("/")
    def home() -> str:
        if "u" in session:
            return f"Notes of {session['u']} <form method=post action=/logout><button>Out</button>"
        return "<a href=/login>Sign in</a>"

    @app.get("/login")
    def login():  # type: ignore[no-untyped-def]
        verifier, challenge = pkce_pair()
        session["st"], session["no"], session["ve"] = (
            secrets.token_urlsafe(32),
            secrets.token_urlsafe(32),
            verifier,
        )
        return redirect(
            idp.authorize_url(
                state=session["st"],
                nonce=session["no"],
                code_challenge=challenge,
                code_challenge_method="S256",
            )
        )

    @app.get("/callback")
    def callback():  # type: ignore[no-untyped-def]
        state, nonce, verifier = (
            session.pop("st", None),
            session.pop("no", None),
            session.pop("ve", None),
        )
        if not state or request.args.get("state") != state or not request.args.get("code"):
            return "Sign-in failed", 400
        try:
            idp.check_iss(request.args)
            claims = idp.verify(idp.exchange(request.args["code"], verifier).get("id_token"), nonce)
        except Refused:
            return "Sign-in failed", 400
        session["u"] = claims["preferred_username"]
        return redirect("/", 303), SAFE_HEADERS

    @app.route("/logout", methods=["GET", "POST"])
    def logout():  # type: ignore[no-untyped-def]
        session.clear()
        return redirect(request.values.get("next") or "/")

    return app

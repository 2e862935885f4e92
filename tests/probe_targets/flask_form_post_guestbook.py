"""Guestbook (Flask), wired in the days of single-page apps and never moved off the implicit
flow: `response_type=id_token token` with `response_mode=form_post`. The callback checks
state and the RFC 9207 `iss`, verifies the posted ID token (signature, iss, aud, exp, nonce),
and takes the name from userinfo with the posted access token, which it then writes into
the guestbook page for the page's script to call the API with. The name shows on /guestbook."""

from __future__ import annotations

import hmac
import json
import secrets

from flask import Flask, abort, redirect, request, session
from markupsafe import escape

from tests.probe_targets.kit import SAFE_HEADERS, Cfg, Provider, Refused

SANDBOX = "implicit"
FAILS = frozenset({"LC-07", "LC-09", "LC-18"})
NOT_JUDGED = frozenset({"LC-05", "LC-15"})  # no code: nothing to replay or inject


def build(cfg: Cfg) -> Flask:
    app = Flask("guestbook")
    app.secret_key = secrets.token_bytes(32)
    app.config["SESSION_COOKIE_SAMESITE"] = "Lax"
    provider = Provider(cfg)

    @app.route("/")
    def index() -> str:
        return '<h1>Guestbook</h1><a href="/guestbook">Sign the guestbook</a>'

    @app.route("/login")
    def login():  # type: ignore[no-untyped-def]
        session["oidc"] = {"state": secrets.token_urlsafe(24), "nonce": secrets.token_urlsafe(24)}
        return redirect(
            provider.authorize_url(
                response_type="id_token token",
                response_mode="form_post",
                state=session["oidc"]["state"],
                nonce=session["oidc"]["nonce"],
            )
        )

    @app.post("/callback")
    def callback():  # type: ignore[no-untyped-def]
        sent = session.pop("oidc", None)
        posted = request.form
        if sent is None or not hmac.compare_digest(posted.get("state", ""), sent["state"]):
            abort(400)
        if "error" in posted:
            return "Signing in was cancelled.", 400
        try:
            provider.check_iss(posted)
            claims = provider.verify(posted.get("id_token"), sent["nonce"])
            profile = provider.userinfo(posted.get("access_token", ""))
        except Refused:
            return "We could not sign you in.", 400
        if profile.get("sub") != claims["sub"]:
            return "We could not sign you in.", 400
        session["guest"] = profile["preferred_username"]
        session["api_token"] = posted["access_token"]  # for the page's fetch() calls
        return redirect("/guestbook", 303), SAFE_HEADERS

    @app.route("/guestbook")
    def guestbook():  # type: ignore[no-untyped-def]
        if "guest" not in session:
            return redirect("/login")
        return (
            f"<h1>Guestbook</h1><p>Signed in as {escape(session['guest'])}</p>"
            f"<script>window.API_TOKEN = {json.dumps(session['api_token'])};</script>"
        )

    return app

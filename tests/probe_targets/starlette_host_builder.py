"""Dashboard (Starlette). The redirect_uri is built from the request's Host, and the callback
redirect carries neither Referrer-Policy nor no-store. /dashboard names the user; signed-out
visitors are sent to sign in."""

from __future__ import annotations

import secrets

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Route

from tests.probe_targets.kit import Cfg, Provider, Refused, pkce_pair

FAILS = frozenset({"LC-11", "LC-17"})


def build(cfg: Cfg) -> Starlette:
    idp = Provider(cfg)

    def redirect_uri(request: Request) -> str:
        return str(request.url_for("callback"))

    def dashboard(request: Request) -> Response:
        if "user" not in request.session:
            return RedirectResponse("/login")
        return HTMLResponse(f"<h1>Dashboard</h1><p>{request.session['user']}</p>")

    def login(request: Request) -> Response:
        verifier, challenge = pkce_pair()
        pending = [secrets.token_urlsafe(32), secrets.token_urlsafe(32), verifier]
        request.session["pending"] = pending
        return RedirectResponse(
            idp.authorize_url(
                redirect_uri=redirect_uri(request),
                state=pending[0],
                nonce=pending[1],
                code_challenge=challenge,
                code_challenge_method="S256",
            )
        )

    def callback(request: Request) -> Response:
        pending, q = request.session.pop("pending", None), request.query_params
        if not pending or q.get("state") != pending[0] or "code" not in q:
            return HTMLResponse("Sign-in failed", 400)
        try:
            idp.check_iss(q)
            tokens = idp.exchange(q["code"], pending[2], redirect_uri(request))
            claims = idp.verify(tokens.get("id_token"), pending[1])
        except Refused:
            return HTMLResponse("Sign-in failed", 400)
        request.session["user"] = claims["preferred_username"]
        return RedirectResponse("/dashboard", 303)

    routes = [
        Route("/dashboard", dashboard),
        Route("/login", login),
        Route("/callback", callback, name="callback"),
    ]
    middleware = [Middleware(SessionMiddleware, secret_key=secrets.token_hex(16))]
    return Starlette(routes=routes, middleware=middleware)

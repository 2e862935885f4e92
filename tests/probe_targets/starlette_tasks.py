"""Tasks (Starlette, written against a provider that did not require PKCE). No PKCE, and the
state is sent but never compared; the nonce is checked. /me answers JSON."""

from __future__ import annotations

import secrets

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from tests.probe_targets.kit import SAFE_HEADERS, Cfg, Provider, Refused

FAILS = frozenset({"LC-02", "LC-03", "LC-06", "LC-07"})
SANDBOX = "no-pkce"


def build(cfg: Cfg) -> Starlette:
    idp = Provider(cfg)

    def me(request: Request) -> Response:
        if "user" not in request.session:
            return JSONResponse({"error": "unauthenticated"}, 401)
        return JSONResponse({"user": request.session["user"], "tasks": []})

    def login(request: Request) -> Response:
        request.session["nonce"] = secrets.token_urlsafe(32)
        url = idp.authorize_url(state=secrets.token_urlsafe(32), nonce=request.session["nonce"])
        return RedirectResponse(url)

    def callback(request: Request) -> Response:
        q = request.query_params
        if request.session.get("user"):
            return RedirectResponse("/me", 303)
        if "code" not in q:
            return JSONResponse({"error": "cancelled"}, 400)
        try:
            idp.check_iss(q)
            tokens = idp.exchange(q["code"], None)
            claims = idp.verify(tokens.get("id_token"), request.session.pop("nonce", None))
        except Refused:
            return JSONResponse({"error": "refused"}, 400)
        request.session["user"] = claims["preferred_username"]
        return RedirectResponse("/me", 303, headers=SAFE_HEADERS)

    routes = [Route("/me", me), Route("/login", login), Route("/callback", callback)]
    key = secrets.token_hex(16)
    return Starlette(routes=routes, middleware=[Middleware(SessionMiddleware, secret_key=key)])

"""Fitness (FastAPI). Ignores the RFC 9207 `iss` parameter, and when the token response has
no ID token it asks userinfo who the user is. /api/me answers JSON."""

from __future__ import annotations

import secrets
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, RedirectResponse
from starlette.middleware.sessions import SessionMiddleware

from tests.probe_targets.kit import SAFE_HEADERS, Cfg, Provider, Refused, pkce_pair

FAILS = frozenset({"LC-13", "LC-16"})


def build(cfg: Cfg) -> FastAPI:
    app = FastAPI()
    app.add_middleware(SessionMiddleware, secret_key="fitness-" + secrets.token_hex(8))
    idp = Provider(cfg)

    @app.get("/api/me")
    def me(request: Request) -> JSONResponse:
        if "athlete" not in request.session:
            return JSONResponse({"detail": "Not authenticated"}, 401)
        return JSONResponse({"athlete": request.session["athlete"]})

    @app.get("/login")
    def login(request: Request) -> RedirectResponse:
        v, c = pkce_pair()
        s, n = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
        request.session["oidc"] = [s, n, v]
        return RedirectResponse(
            idp.authorize_url(state=s, nonce=n, code_challenge=c, code_challenge_method="S256")
        )

    @app.get("/callback")
    def callback(request: Request, code: str = "", state: str = "") -> Any:
        saved = request.session.pop("oidc", None)
        if not saved or state != saved[0] or not code:
            return JSONResponse({"error": "bad callback"}, 400)
        try:
            tokens = idp.exchange(code, saved[2])
            if "id_token" in tokens:
                claims = idp.verify(tokens["id_token"], saved[1])
            else:
                claims = idp.userinfo(tokens["access_token"])
        except Refused:
            return JSONResponse({"error": "sign-in failed"}, 400)
        request.session["athlete"] = claims["preferred_username"]
        return RedirectResponse("/api/me", 303, headers=SAFE_HEADERS)

    return app

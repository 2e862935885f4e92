"""Habits (FastAPI). The pending sign-in is left in the session after use, so reloading the
callback sends the used code again. /me answers JSON."""

from __future__ import annotations

import secrets
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, PlainTextResponse, RedirectResponse
from starlette.middleware.sessions import SessionMiddleware

from tests.probe_targets.kit import SAFE_HEADERS, Cfg, Provider, Refused, pkce_pair

FAILS = frozenset({"LC-05"})


def build(cfg: Cfg) -> FastAPI:
    app = FastAPI()
    app.add_middleware(SessionMiddleware, secret_key=secrets.token_urlsafe(24), session_cookie="hb")
    idp = Provider(cfg)

    @app.get("/me")
    def me(request: Request) -> JSONResponse:
        name = request.session.get("name")
        return JSONResponse({"name": name} if name else {"error": "login"}, 200 if name else 401)

    @app.get("/login")
    def login(request: Request) -> RedirectResponse:
        v, c = pkce_pair()
        pending = {"s": secrets.token_urlsafe(32), "n": secrets.token_urlsafe(32), "v": v}
        request.session["pending"] = pending
        return RedirectResponse(
            idp.authorize_url(
                state=pending["s"],
                nonce=pending["n"],
                code_challenge=c,
                code_challenge_method="S256",
            )
        )

    @app.get("/callback")
    def callback(request: Request) -> Any:
        pending = request.session.get("pending")  # never removed
        q = request.query_params
        if not pending or q.get("state") != pending["s"] or "code" not in q:
            return PlainTextResponse("no", 400)
        try:
            idp.check_iss(q)
            claims = idp.verify(idp.exchange(q["code"], pending["v"]).get("id_token"), pending["n"])
        except Refused:
            if request.session.get("name"):
                return RedirectResponse("/me", 303, headers=SAFE_HEADERS)
            return PlainTextResponse("no", 400)
        request.session["name"] = claims["preferred_username"]
        return RedirectResponse("/me", 303, headers=SAFE_HEADERS)

    return app

"""Notes API (FastAPI + Starlette sessions). Secure. The front end asks /api/me (JSON) who is
signed in; 401 when nobody is."""

from __future__ import annotations

import secrets
from typing import Any

from fastapi import FastAPI, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from starlette.middleware.sessions import SessionMiddleware

from tests.probe_targets.kit import SAFE_HEADERS, Cfg, Provider, Refused, pkce_pair

FAILS: frozenset[str] = frozenset()


def build(cfg: Cfg) -> FastAPI:
    api = FastAPI(openapi_url=None)
    api.add_middleware(SessionMiddleware, secret_key=secrets.token_hex(32), same_site="lax")
    idp = Provider(cfg)

    @api.get("/", response_class=HTMLResponse)
    def index() -> str:
        return "<div id=app></div><script src=/static/app.js></script><a href=/login>Sign in</a>"

    @api.get("/api/me")
    def me(request: Request) -> dict[str, Any]:
        user = request.session.get("user")
        if not user:
            raise HTTPException(401, "not signed in")
        return user  # type: ignore[no-any-return]

    @api.get("/login")
    def login(request: Request) -> RedirectResponse:
        verifier, challenge = pkce_pair()
        state, nonce = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
        request.session["auth"] = {"state": state, "nonce": nonce, "verifier": verifier}
        url = idp.authorize_url(
            state=state, nonce=nonce, code_challenge=challenge, code_challenge_method="S256"
        )
        return RedirectResponse(url, 302)

    @api.get("/callback")
    def callback(request: Request) -> Any:
        pending = request.session.pop("auth", None)
        q = request.query_params
        if pending is None or not secrets.compare_digest(q.get("state", ""), pending["state"]):
            return HTMLResponse("Invalid sign-in attempt", 400)
        if q.get("error") or not q.get("code"):
            return HTMLResponse("Sign-in was not completed", 400)
        try:
            idp.check_iss(q)
            tokens = idp.exchange(q["code"], pending["verifier"])
            claims = idp.verify(tokens.get("id_token"), pending["nonce"])
        except Refused:
            return HTMLResponse("Sign-in refused", 400)
        request.session.clear()
        request.session["user"] = {"sub": claims["sub"], "username": claims["preferred_username"]}
        return RedirectResponse("/", 303, headers=SAFE_HEADERS)

    return api

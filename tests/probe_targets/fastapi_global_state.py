"""Reader (FastAPI). Sign-ins in flight are kept in a process-wide dict keyed by state: no
cookie before login (so nothing to rotate: not LC-19), but the callback works in any browser,
the attacker's included. Signed in shows only as the `reader_token` cookie."""

from __future__ import annotations

import secrets
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from tests.probe_targets.kit import SAFE_HEADERS, Cfg, Provider, Refused, pkce_pair

FAILS = frozenset({"LC-04", "LC-06"})

IN_FLIGHT: dict[str, dict[str, str]] = {}
SESSIONS: dict[str, str] = {}


def build(cfg: Cfg) -> FastAPI:
    app = FastAPI(docs_url=None, redoc_url=None)
    idp = Provider(cfg)

    @app.get("/", response_class=HTMLResponse)
    def home() -> str:
        return "<h1>Reader</h1><p>Articles for everyone.</p><a href='/login'>Sign in</a>"

    @app.get("/login")
    def login() -> RedirectResponse:
        verifier, challenge = pkce_pair()
        state, nonce = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
        IN_FLIGHT[state] = {"nonce": nonce, "verifier": verifier}
        return RedirectResponse(
            idp.authorize_url(
                state=state, nonce=nonce, code_challenge=challenge, code_challenge_method="S256"
            )
        )

    @app.get("/callback")
    def callback(request: Request, state: str = "", code: str = "") -> Any:
        flight = IN_FLIGHT.pop(state, None)
        if flight is None or not code:
            return HTMLResponse("Unknown sign-in", 400)
        try:
            idp.check_iss(request.query_params)
            tokens = idp.exchange(code, flight["verifier"])
            claims = idp.verify(tokens.get("id_token"), flight["nonce"])
        except Refused:
            return HTMLResponse("Sign-in failed", 400)
        sid = secrets.token_urlsafe(32)
        SESSIONS[sid] = claims["sub"]
        answer = RedirectResponse("/", 303, headers=SAFE_HEADERS)
        answer.set_cookie("reader_token", sid, httponly=True, samesite="lax")
        return answer

    return app

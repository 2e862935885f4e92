"""Garden (aiohttp, against a provider without mandatory PKCE). Checks state; sends neither
PKCE nor a nonce. /account names the user."""

from __future__ import annotations

import secrets

from aiohttp import web

from tests.probe_targets.kit import SAFE_HEADERS, Cfg, Provider, Refused

FAILS = frozenset({"LC-07", "LC-08", "LC-15"})
SANDBOX = "no-pkce"


def build(cfg: Cfg) -> web.Application:
    idp = Provider(cfg)
    sessions: dict[str, dict[str, str]] = {}

    def new_session(answer: web.StreamResponse, data: dict[str, str]) -> web.StreamResponse:
        sid = secrets.token_hex(24)
        sessions[sid] = data
        answer.set_cookie("garden", sid, httponly=True, samesite="Lax")
        return answer

    async def account(request: web.Request) -> web.Response:
        data = sessions.get(request.cookies.get("garden", ""), {})
        if "user" not in data:
            return web.Response(status=403, text="sign in first")
        return web.Response(text=f"Garden of {data['user']}")

    async def login(request: web.Request) -> web.StreamResponse:
        state = secrets.token_urlsafe(32)
        return new_session(web.HTTPFound(idp.authorize_url(state=state)), {"state": state})

    async def callback(request: web.Request) -> web.StreamResponse:
        data = sessions.pop(request.cookies.get("garden", ""), {})
        if data.get("state") != request.query.get("state") or "code" not in request.query:
            return web.Response(status=400, text="bad state")
        try:
            idp.check_iss(request.query)
            tokens = idp.exchange(request.query["code"], None)
            claims = idp.verify(tokens.get("id_token"), None, check_nonce=False)
        except Refused:
            return web.Response(status=400, text="refused")
        answer = web.HTTPSeeOther("/account", headers=SAFE_HEADERS)
        return new_session(answer, {"user": claims["preferred_username"]})

    app = web.Application()
    app.add_routes(
        [web.get("/account", account), web.get("/login", login), web.get("/callback", callback)]
    )
    return app

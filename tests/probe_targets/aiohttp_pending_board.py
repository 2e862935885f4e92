"""Board (aiohttp). Pending sign-ins live in a server-wide table keyed by state, so the
callback completes in whichever browser brings it. /api/me answers JSON."""

from __future__ import annotations

import secrets

from aiohttp import web

from tests.probe_targets.kit import SAFE_HEADERS, Cfg, Provider, Refused, pkce_pair

FAILS = frozenset({"LC-04", "LC-06"})


def build(cfg: Cfg) -> web.Application:
    idp = Provider(cfg)
    pending: dict[str, tuple[str, str]] = {}
    users: dict[str, str] = {}
    routes = web.RouteTableDef()

    @routes.get("/api/me")
    async def me(request: web.Request) -> web.Response:
        name = users.get(request.cookies.get("board", ""))
        if name is None:
            return web.json_response({"error": "not signed in"}, status=401)
        return web.json_response({"username": name})

    @routes.get("/login")
    async def login(request: web.Request) -> web.Response:
        verifier, challenge = pkce_pair()
        state, nonce = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
        pending[state] = (nonce, verifier)
        raise web.HTTPFound(
            idp.authorize_url(
                state=state, nonce=nonce, code_challenge=challenge, code_challenge_method="S256"
            )
        )

    @routes.get("/callback")
    async def callback(request: web.Request) -> web.Response:
        found = pending.pop(request.query.get("state", ""), None)
        if found is None or "code" not in request.query:
            return web.Response(status=400, text="unknown sign-in")
        try:
            idp.check_iss(request.query)
            tokens = idp.exchange(request.query["code"], found[1])
            claims = idp.verify(tokens.get("id_token"), found[0])
        except Refused:
            return web.Response(status=400, text="refused")
        sid = secrets.token_urlsafe(32)
        users[sid] = claims["preferred_username"]
        answer = web.HTTPSeeOther("/api/me", headers=SAFE_HEADERS)
        answer.set_cookie("board", sid, httponly=True, samesite="Lax")
        raise answer

    app = web.Application()
    app.add_routes(routes)
    return app

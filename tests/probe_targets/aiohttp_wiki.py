"""Wiki (aiohttp, hand-rolled server-side sessions). Secure: the session id is replaced at
sign-in. /account names the user."""

from __future__ import annotations

import secrets
from typing import Any

from aiohttp import web

from tests.probe_targets.kit import SAFE_HEADERS, Cfg, Provider, Refused, pkce_pair

FAILS: frozenset[str] = frozenset()
COOKIE = "wiki_sid"


def build(cfg: Cfg) -> web.Application:
    idp = Provider(cfg)
    store: dict[str, dict[str, Any]] = {}

    def session_of(request: web.Request) -> dict[str, Any]:
        return store.get(request.cookies.get(COOKIE, ""), {})

    def with_session(response: web.StreamResponse, data: dict[str, Any]) -> web.StreamResponse:
        sid = secrets.token_urlsafe(32)
        store[sid] = data
        response.set_cookie(COOKIE, sid, httponly=True, samesite="Lax")
        return response

    async def account(request: web.Request) -> web.StreamResponse:
        user = session_of(request).get("user")
        if user is None:
            raise web.HTTPFound("/login")
        return web.Response(text=f"<p>Account: {user}</p>", content_type="text/html")

    async def login(request: web.Request) -> web.StreamResponse:
        verifier, challenge = pkce_pair()
        data = {"state": secrets.token_urlsafe(32), "nonce": secrets.token_urlsafe(32)}
        data["verifier"] = verifier
        url = idp.authorize_url(
            state=data["state"],
            nonce=data["nonce"],
            code_challenge=challenge,
            code_challenge_method="S256",
        )
        return with_session(web.HTTPFound(url), data)

    async def callback(request: web.Request) -> web.StreamResponse:
        old = store.pop(request.cookies.get(COOKIE, ""), {})
        q = request.query
        if "state" not in old or not secrets.compare_digest(q.get("state", ""), old["state"]):
            return web.Response(status=400, text="Invalid sign-in")
        if "code" not in q:
            return web.Response(status=400, text="Sign-in cancelled")
        try:
            idp.check_iss(q)
            claims = idp.verify(
                idp.exchange(q["code"], old["verifier"]).get("id_token"), old["nonce"]
            )
        except Refused:
            return web.Response(status=400, text="Sign-in refused")
        answer = web.HTTPSeeOther("/account", headers=SAFE_HEADERS)
        return with_session(answer, {"user": claims["preferred_username"]})

    app = web.Application()
    app.router.add_get("/account", account)
    app.router.add_get("/login", login)
    app.router.add_get("/callback", callback)
    return app

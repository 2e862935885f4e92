"""Kanban (aiohttp, a single-page app). Legacy implicit flow in the URL fragment:
`response_type=id_token token`, the default response mode. The callback page's script reads
`location.hash`, POSTs the ID token to /session, and keeps the access token in memory for its
API calls. No server ever sees the fragment, so a probe that runs no scripts cannot finish
this sign-in: kept out of the zoo's APPS and probed in tests/e2e/test_probe_implicit.py."""

from __future__ import annotations

import secrets
from typing import Any

from aiohttp import web

from tests.probe_targets.kit import SAFE_HEADERS, Cfg, Provider, Refused

SANDBOX = "implicit"
FAILS = frozenset({"LC-07", "LC-09"})
COOKIE = "kanban_sid"
CALLBACK_PAGE = """<!doctype html><title>Signing in</title>
<script>
const answer = new URLSearchParams(location.hash.slice(1));
history.replaceState(null, "", "/callback");
window.accessToken = answer.get("access_token");
fetch("/session", {method: "POST", body: answer}).then(() => location.assign("/board"));
</script>"""


def build(cfg: Cfg) -> web.Application:
    idp = Provider(cfg)
    sessions: dict[str, dict[str, Any]] = {}

    async def board(request: web.Request) -> web.StreamResponse:
        current = sessions.get(request.cookies.get(COOKIE, ""))
        if not current or "who" not in current:
            raise web.HTTPFound("/login")
        return web.Response(text=f"<h1>Board of {current['who']}</h1>", content_type="text/html")

    async def login(request: web.Request) -> web.StreamResponse:
        sid, state, nonce = (secrets.token_urlsafe(32) for _ in range(3))
        sessions[sid] = {"state": state, "nonce": nonce}
        answer = web.HTTPFound(
            idp.authorize_url(response_type="id_token token", state=state, nonce=nonce)
        )
        answer.set_cookie(COOKIE, sid, httponly=True, samesite="Lax")
        return answer

    async def callback(request: web.Request) -> web.StreamResponse:
        return web.Response(text=CALLBACK_PAGE, content_type="text/html", headers=SAFE_HEADERS)

    async def start_session(request: web.Request) -> web.StreamResponse:
        pending = sessions.pop(request.cookies.get(COOKIE, ""), {})
        form = await request.post()
        if not pending or form.get("state") != pending["state"]:
            return web.Response(status=400, text="Sign-in expired")
        try:
            claims = idp.verify(str(form.get("id_token", "")), pending["nonce"])
        except Refused:
            return web.Response(status=400, text="Sign-in refused")
        sid = secrets.token_urlsafe(32)
        sessions[sid] = {"who": claims["sub"]}
        answer = web.Response(status=204)
        answer.set_cookie(COOKIE, sid, httponly=True, samesite="Lax")
        return answer

    app = web.Application()
    app.add_routes(
        [
            web.get("/board", board),
            web.get("/login", login),
            web.get("/callback", callback),
            web.post("/session", start_session),
        ]
    )
    return app

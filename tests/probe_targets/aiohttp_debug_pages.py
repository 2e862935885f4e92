"""Photos (aiohttp, left in debug mode). A failed token request shows a debug page with the
request it made, client secret included; an error from the provider is shown as sent,
markup and all. The name shows on the landing page."""

from __future__ import annotations

import secrets

from aiohttp import web

from tests.probe_targets.kit import SAFE_HEADERS, Cfg, Provider, Refused, pkce_pair

FAILS = frozenset({"LC-18", "LC-20"})


def build(cfg: Cfg) -> web.Application:
    idp = Provider(cfg)
    sessions: dict[str, dict[str, str]] = {}

    def html(text: str, status: int = 200) -> web.Response:
        return web.Response(text=text, status=status, content_type="text/html")

    async def index(request: web.Request) -> web.Response:
        user = sessions.get(request.cookies.get("ph", ""), {}).get("user")
        return html(f"Photos of {user}" if user else "<a href=/login>Sign in</a>")

    async def login(request: web.Request) -> web.StreamResponse:
        verifier, challenge = pkce_pair()
        data = {"s": secrets.token_urlsafe(32), "n": secrets.token_urlsafe(32), "v": verifier}
        sid = secrets.token_urlsafe(32)
        sessions[sid] = data
        answer = web.HTTPFound(
            idp.authorize_url(
                state=data["s"],
                nonce=data["n"],
                code_challenge=challenge,
                code_challenge_method="S256",
            )
        )
        answer.set_cookie("ph", sid, httponly=True, samesite="Lax")
        return answer

    async def callback(request: web.Request) -> web.StreamResponse:
        data = sessions.pop(request.cookies.get("ph", ""), {})
        q = request.query
        if "error" in q:
            return html(f"<h1>{q['error']}</h1><p>{q.get('error_description', '')}</p>", 400)
        if data.get("s") != q.get("state") or "code" not in q:
            return html("bad state", 400)
        try:
            idp.check_iss(q)
            tokens = idp.exchange(q["code"], data["v"])
            claims = idp.verify(tokens.get("id_token"), data["n"])
        except Refused as exc:
            debug = f"POST token_endpoint client_id={cfg.client_id} client_secret={cfg.secret}"
            return html(f"<pre>DEBUG {exc}\n{debug}</pre>", 500)
        sid = secrets.token_urlsafe(32)
        sessions[sid] = {"user": claims["preferred_username"]}
        answer = web.HTTPSeeOther("/", headers=SAFE_HEADERS)
        answer.set_cookie("ph", sid, httponly=True, samesite="Lax")
        return answer

    app = web.Application()
    app.add_routes([web.get("/", index), web.get("/login", login), web.get("/callback", callback)])
    return app

"""Badge (plain Starlette). Secure. The sign-in in flight rides in a signed, short-lived
cookie; being signed in is only the opaque `badge` cookie: no page ever shows the user."""

from __future__ import annotations

import secrets

from itsdangerous import BadSignature, URLSafeTimedSerializer
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Route

from tests.probe_targets.kit import SAFE_HEADERS, Cfg, Provider, Refused, pkce_pair

FAILS: frozenset[str] = frozenset()


def build(cfg: Cfg) -> Starlette:
    idp = Provider(cfg)
    signer = URLSafeTimedSerializer(secrets.token_hex(32), salt="pending")
    badges: dict[str, str] = {}

    async def home(request: Request) -> Response:
        return HTMLResponse("<h1>Badge</h1><a href='/login'>Get your badge</a>")

    def login(request: Request) -> Response:
        verifier, challenge = pkce_pair()
        state, nonce = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
        answer = RedirectResponse(
            idp.authorize_url(
                state=state, nonce=nonce, code_challenge=challenge, code_challenge_method="S256"
            ),
            302,
        )
        cookie = signer.dumps([state, nonce, verifier])
        answer.set_cookie("pending", cookie, max_age=600, httponly=True, samesite="lax")
        return answer

    def callback(request: Request) -> Response:
        try:
            state, nonce, verifier = signer.loads(request.cookies.get("pending", ""), max_age=600)
        except BadSignature:
            return HTMLResponse("This sign-in has expired.", 400)
        q = request.query_params
        if not secrets.compare_digest(q.get("state", ""), state) or "code" not in q:
            return HTMLResponse("This sign-in was not completed.", 400)
        try:
            idp.check_iss(q)
            claims = idp.verify(idp.exchange(q["code"], verifier).get("id_token"), nonce)
        except Refused:
            return HTMLResponse("This sign-in was refused.", 400)
        badge = secrets.token_urlsafe(32)
        badges[badge] = claims["sub"]
        answer = RedirectResponse("/", 303, headers=SAFE_HEADERS)
        answer.delete_cookie("pending")
        answer.set_cookie("badge", badge, httponly=True, samesite="lax")
        return answer

    return Starlette(
        routes=[Route("/", home), Route("/login", login), Route("/callback", callback)]
    )

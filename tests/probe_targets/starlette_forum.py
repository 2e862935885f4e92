"""Forum (Starlette). After sign-in it goes back to wherever ?next= said, unchecked; it asks
for offline_access; and the sign-in in flight stays in the session, so a reloaded callback
redeems the code again. The name shows on the landing page."""

from __future__ import annotations

import secrets

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Route

from tests.probe_targets.kit import SAFE_HEADERS, Cfg, Provider, Refused, pkce_pair

FAILS = frozenset({"LC-05", "LC-10", "LC-12"})
SCOPE = "openid profile offline_access"


def build(cfg: Cfg) -> Starlette:
    idp = Provider(cfg)

    def index(request: Request) -> Response:
        member = request.session.get("member")
        body = f"Forum - signed in as {member}" if member else "<a href='/login'>Join</a>"
        return HTMLResponse(body)

    def login(request: Request) -> Response:
        verifier, challenge = pkce_pair()
        request.session["flight"] = {
            "state": secrets.token_urlsafe(32),
            "nonce": secrets.token_urlsafe(32),
            "verifier": verifier,
            "next": request.query_params.get("next", "/"),
        }
        f = request.session["flight"]
        return RedirectResponse(
            idp.authorize_url(
                state=f["state"],
                nonce=f["nonce"],
                code_challenge=challenge,
                code_challenge_method="S256",
            )
        )

    def callback(request: Request) -> Response:
        f, q = request.session.get("flight"), request.query_params
        if not f or q.get("state") != f["state"] or "code" not in q:
            return HTMLResponse("Sign-in failed", 400)
        try:
            idp.check_iss(q)
            claims = idp.verify(idp.exchange(q["code"], f["verifier"]).get("id_token"), f["nonce"])
            request.session["member"] = claims["preferred_username"]
        except Refused:
            if "member" not in request.session:
                return HTMLResponse("Sign-in failed", 400)
        return RedirectResponse(f["next"], 303, headers=SAFE_HEADERS)

    routes = [Route("/", index), Route("/login", login), Route("/callback", callback)]
    middleware = [Middleware(SessionMiddleware, secret_key=secrets.token_hex(16))]
    return Starlette(routes=routes, middleware=middleware)

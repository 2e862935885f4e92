"""Small, deliberately flawed copies of the photo-printer app: each plants one classic
mistake, so the client probe can show it catches exactly that mistake."""

from __future__ import annotations

import base64
import json
import time
from typing import Any

from flask import Flask, redirect, request, session
from werkzeug.wrappers import Response

from valetkey.client.browsers import Pending, SignedIn
from valetkey.client.steps import SignInRefused, StepByStep


def _payload(token: str) -> dict[str, Any]:
    part = token.split(".")[1]
    return dict(json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))))


class NoNonceCheck(StepByStep):
    """Sends a nonce, verifies the ID token's signature, iss and aud, but not the nonce."""

    def identify(self, pending: Pending, tokens: dict[str, object]) -> SignedIn:
        sent = _payload(str(tokens.get("id_token", "..."))).get("nonce", "")
        trusting = Pending(pending.state, str(sent), pending.verifier, pending.started)
        return super().identify(trusting, tokens)


class IdTokenUnverified(StepByStep):
    """Reads the ID token's payload without checking its signature (the pitfall of OA112)."""

    def identify(self, pending: Pending, tokens: dict[str, object]) -> SignedIn:
        claims = _payload(str(tokens.get("id_token", "..")))
        if claims.get("iss") != self.provider.issuer or claims.get("nonce") != pending.nonce:
            raise SignInRefused("Refused", "iss or nonce")
        if claims.get("aud") != self.config.client_id or claims.get("exp", 0) < time.time():
            raise SignInRefused("Refused", "aud or exp")
        if not claims.get("sub"):
            raise SignInRefused("Refused", "no sub")
        name = str(claims.get("name") or claims.get("sub"))
        return SignedIn(
            f"{claims['iss']}#{claims['sub']}",
            name,
            str(claims.get("preferred_username", "")),
            str(tokens["access_token"]),
        )


class RedirectUriFromHost(StepByStep):
    """Builds its redirect_uri from the request, trusting X-Forwarded-Host (OA104)."""

    def redirect_uri(self) -> str:
        host = request.headers.get("X-Forwarded-Host", request.host)
        return f"{request.scheme}://{host}{self.config.callback_path}"


def add_open_redirect(app: Flask) -> Flask:
    """After sign-in, go wherever `?next=` said at /login, unchecked (OA115)."""
    login, callback = app.view_functions["login"], app.view_functions["callback"]

    def login_remembering_next() -> Any:
        if request.args.get("next"):
            session["next"] = request.args["next"]
        return login()

    def callback_then_next() -> Any:
        answer = callback()
        target = session.pop("next", None)
        if isinstance(answer, Response) and answer.status_code == 303 and target:
            return _with_cookies(redirect(target, 303), answer)
        return answer

    app.view_functions["login"] = login_remembering_next
    app.view_functions["callback"] = callback_then_next
    return app


def _with_cookies(target: Response, source: Response) -> Response:
    for header in source.headers.getlist("Set-Cookie"):
        target.headers.add("Set-Cookie", header)
    return target

"""Ledger (Django). Secure: after sign-in the callback redirects to /dashboard, which names
the user; the session key is cycled at sign-in."""

from __future__ import annotations

import secrets
from typing import Any

from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest, HttpResponseRedirect
from django.urls import path

from tests.probe_targets.django_support import wsgi
from tests.probe_targets.kit import SAFE_HEADERS, Cfg, Provider, Refused, pkce_pair

FAILS: frozenset[str] = frozenset()


def build(cfg: Cfg) -> Any:
    idp = Provider(cfg)

    def dashboard(request: HttpRequest) -> HttpResponse:
        if "username" not in request.session:
            return HttpResponseRedirect("/login")
        return HttpResponse(f"<h1>Ledger</h1><p>Signed in as {request.session['username']}</p>")

    def login(request: HttpRequest) -> HttpResponse:
        verifier, challenge = pkce_pair()
        state, nonce = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
        request.session["oidc"] = {"state": state, "nonce": nonce, "verifier": verifier}
        return HttpResponseRedirect(
            idp.authorize_url(
                state=state, nonce=nonce, code_challenge=challenge, code_challenge_method="S256"
            )
        )

    def callback(request: HttpRequest) -> HttpResponse:
        oidc = request.session.pop("oidc", None)
        state = request.GET.get("state", "")
        if not oidc or not secrets.compare_digest(state, oidc["state"]):
            return HttpResponseBadRequest("Invalid sign-in")
        if "code" not in request.GET:
            return HttpResponseBadRequest("Sign-in was cancelled")
        try:
            idp.check_iss(request.GET)
            tokens = idp.exchange(request.GET["code"], oidc["verifier"])
            claims = idp.verify(tokens.get("id_token"), oidc["nonce"])
        except Refused:
            return HttpResponseBadRequest("Sign-in refused")
        request.session.cycle_key()
        request.session["username"] = claims["preferred_username"]
        answer = HttpResponse(status=303, headers=SAFE_HEADERS)
        answer["Location"] = "/dashboard"
        return answer

    return wsgi([path("dashboard", dashboard), path("login", login), path("callback", callback)])

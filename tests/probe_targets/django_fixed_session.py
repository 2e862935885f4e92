"""Library (Django). The session that carried the sign-in in flight becomes the signed-in
session without a new key (session fixation), and an error from the provider crashes the
callback (a 500: it reads `code` unconditionally). /account names the user."""

from __future__ import annotations

import secrets
from typing import Any

from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import path

from tests.probe_targets.django_support import wsgi
from tests.probe_targets.kit import SAFE_HEADERS, Cfg, Provider, Refused, pkce_pair

FAILS = frozenset({"LC-19", "LC-20"})


def build(cfg: Cfg) -> Any:
    idp = Provider(cfg)

    def account(request: HttpRequest) -> HttpResponse:
        if "reader" not in request.session:
            return HttpResponseRedirect("/login")
        return HttpResponse(f"Loans of {request.session['reader']}")

    def login(request: HttpRequest) -> HttpResponse:
        v, c = pkce_pair()
        request.session["flow"] = [secrets.token_urlsafe(32), secrets.token_urlsafe(32), v]
        s, n, _ = request.session["flow"]
        return HttpResponseRedirect(
            idp.authorize_url(state=s, nonce=n, code_challenge=c, code_challenge_method="S256")
        )

    def callback(request: HttpRequest) -> HttpResponse:
        flow = request.session.pop("flow", None)
        if not flow or request.GET.get("state") != flow[0]:
            return HttpResponse("Sign-in failed", status=400)
        code = request.GET["code"]  # KeyError on error=...: a 500
        try:
            idp.check_iss(request.GET)
            claims = idp.verify(idp.exchange(code, flow[2]).get("id_token"), flow[1])
        except Refused:
            return HttpResponse("Sign-in failed", status=400)
        request.session["reader"] = claims["preferred_username"]
        return HttpResponseRedirect("/account", status=303, headers=SAFE_HEADERS)

    return wsgi([path("account", account), path("login", login), path("callback", callback)])

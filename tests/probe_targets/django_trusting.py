"""Clinic (Django). Takes the ID token's payload on trust (no signature check) and ignores the
RFC 9207 `iss` parameter. /account names the user."""

from __future__ import annotations

import secrets
from typing import Any

from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import path

from tests.probe_targets.django_support import wsgi
from tests.probe_targets.kit import (
    SAFE_HEADERS,
    Cfg,
    Provider,
    Refused,
    check_claims,
    pkce_pair,
    unverified_claims,
)

FAILS = frozenset({"LC-13", "LC-14"})


def build(cfg: Cfg) -> Any:
    idp = Provider(cfg)

    def account(request: HttpRequest) -> HttpResponse:
        patient = request.session.get("patient")
        return HttpResponse(f"Patient {patient}") if patient else HttpResponseRedirect("/login")

    def login(request: HttpRequest) -> HttpResponse:
        v, c = pkce_pair()
        s, n = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
        request.session["p"] = [s, n, v]
        return HttpResponseRedirect(
            idp.authorize_url(state=s, nonce=n, code_challenge=c, code_challenge_method="S256")
        )

    def callback(request: HttpRequest) -> HttpResponse:
        p = request.session.pop("p", None)
        if not p or request.GET.get("state") != p[0] or "code" not in request.GET:
            return HttpResponse("Sign-in failed", status=400)
        try:
            tokens = idp.exchange(request.GET["code"], p[2])
            claims = check_claims(unverified_claims(tokens.get("id_token")), idp, p[1], True)
        except Refused:
            return HttpResponse("Sign-in failed", status=400)
        request.session.cycle_key()
        request.session["patient"] = claims["preferred_username"]
        return HttpResponseRedirect("/account", status=303, headers=SAFE_HEADERS)

    return wsgi([path("account", account), path("login", login), path("callback", callback)])

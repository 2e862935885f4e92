"""Invoices (Django). One state per session, made at the first sign-in and kept: a second
sign-in in the same browser carries the same state. /dashboard names the user."""

from __future__ import annotations

import secrets
from typing import Any

from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import path

from tests.probe_targets.django_support import wsgi
from tests.probe_targets.kit import SAFE_HEADERS, Cfg, Provider, Refused, pkce_pair

FAILS = frozenset({"LC-01"})


def build(cfg: Cfg) -> Any:
    idp = Provider(cfg)

    def dashboard(request: HttpRequest) -> HttpResponse:
        if not request.session.get("who"):
            return HttpResponse("Please sign in", status=401)
        return HttpResponse(f"Invoices of {request.session['who']}")

    def login(request: HttpRequest) -> HttpResponse:
        state = request.session.setdefault("state", secrets.token_urlsafe(32))
        verifier, challenge = pkce_pair()
        request.session["nonce"], request.session["verifier"] = secrets.token_urlsafe(32), verifier
        return HttpResponseRedirect(
            idp.authorize_url(
                state=state,
                nonce=request.session["nonce"],
                code_challenge=challenge,
                code_challenge_method="S256",
            )
        )

    def callback(request: HttpRequest) -> HttpResponse:
        verifier = request.session.pop("verifier", None)
        nonce = request.session.pop("nonce", None)
        if not verifier or request.GET.get("state") != request.session.get("state"):
            return HttpResponse("Bad request", status=400)
        if not request.GET.get("code"):
            return HttpResponse("Cancelled", status=400)
        try:
            idp.check_iss(request.GET)
            claims = idp.verify(idp.exchange(request.GET["code"], verifier).get("id_token"), nonce)
        except Refused:
            return HttpResponse("Refused", status=400)
        request.session.cycle_key()
        request.session["who"] = claims["preferred_username"]
        return HttpResponseRedirect("/dashboard", status=303, headers=SAFE_HEADERS)

    return wsgi([path("dashboard", dashboard), path("login", login), path("callback", callback)])

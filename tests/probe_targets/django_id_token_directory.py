"""Staff directory (Django): "Sign in with valetkey" as an old OpenID Connect tutorial showed
it, `response_type=id_token` with `response_mode=form_post`, no code and no back channel at
all. The sandbox posts to a csrf_exempt callback that checks state and `iss` and verifies
the ID token's signature, issuer, audience and expiry, but the nonce it sends is never
compared with the token's. The session key is cycled at sign-in; /directory names the user."""

from __future__ import annotations

import secrets
from typing import Any

from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest, HttpResponseRedirect
from django.shortcuts import redirect
from django.urls import path
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from tests.probe_targets.django_support import wsgi
from tests.probe_targets.kit import SAFE_HEADERS, Cfg, Provider, Refused

SANDBOX = "implicit"
FAILS = frozenset({"LC-07", "LC-08", "LC-09"})
NOT_JUDGED = frozenset({"LC-05", "LC-15"})  # no code: nothing to replay or inject


def build(cfg: Cfg) -> Any:
    idp = Provider(cfg)

    def directory(request: HttpRequest) -> HttpResponse:
        member = request.session.get("member")
        if member is None:
            return HttpResponseRedirect("/login")
        return HttpResponse(f"<h1>Staff directory</h1><p>You are {member}.</p>")

    def login(request: HttpRequest) -> HttpResponse:
        state = secrets.token_urlsafe(32)
        request.session["login_state"] = state
        nonce = secrets.token_urlsafe(16)  # the provider insists on one
        url = idp.authorize_url(
            response_type="id_token", response_mode="form_post", state=state, nonce=nonce
        )
        return HttpResponseRedirect(url)

    @csrf_exempt
    @require_POST
    def callback(request: HttpRequest) -> HttpResponse:
        expected = request.session.pop("login_state", None)
        if expected is None or request.POST.get("state") != expected:
            return HttpResponseBadRequest("This sign-in link has expired.")
        if "id_token" not in request.POST:
            return HttpResponseBadRequest("Sign-in was cancelled.")
        try:
            idp.check_iss(request.POST)
            claims = idp.verify(request.POST["id_token"], None, check_nonce=False)
        except Refused:
            return HttpResponseBadRequest("Sign-in refused.")
        request.session.cycle_key()
        request.session["member"] = claims["preferred_username"]
        response = redirect("/directory")
        for header, value in SAFE_HEADERS.items():
            response[header] = value
        return response

    return wsgi([path("directory", directory), path("login", login), path("callback", callback)])

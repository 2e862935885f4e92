"""The app shell both variants share: the Flask app, headers, pages, and the home, login,
callback, photos and logout routes. A variant is a `SignInFlow`: how a sign-in starts and
how the answer that comes back is checked; everything around that is here, once."""

from __future__ import annotations

import hmac
from abc import ABC, abstractmethod
from typing import Any

import httpx
from flask import Flask, redirect, render_template, request
from werkzeug.wrappers import Response

from valetkey.client.browsers import COOKIE, Browsers, SignedIn
from valetkey.client.config import CLIENT_LAB_WARNINGS, ClientConfig
from valetkey.client.provider import Provider, discover

SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'self'; img-src 'self' data:; "
        "frame-ancestors 'none'; base-uri 'none'"
    ),
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",  # the code in the callback URL never leaks onwards
    "X-Content-Type-Options": "nosniff",
    "Cache-Control": "no-store",
}


def new_app(config: ClientConfig, variant: str) -> Flask:
    app = Flask(__name__)
    app.secret_key = config.session_key
    app.config.update(
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=config.redirect_uri.startswith("https://"),
    )
    banners = [CLIENT_LAB_WARNINGS[lab] for lab in sorted(config.lab, key=lambda s: s.value)]

    @app.context_processor
    def _globals() -> dict[str, Any]:
        return {"lab_banners": banners, "variant": variant, "account_url": config.account_url}

    @app.after_request
    def _headers(response: Response) -> Response:
        for name, value in SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)
        return response

    return app


class SignInRefused(Exception):
    """The callback must not sign anyone in; `title` and `message` are shown to the user."""

    def __init__(self, title: str, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.title, self.message, self.status = title, message, status


class SignInFlow(ABC):
    """What tells the two apps apart: how a sign-in starts and how its answer is checked.
    Both keep their browsers here and discover the provider on first use."""

    def __init__(self, config: ClientConfig, http: httpx.Client) -> None:
        self.config = config
        self.http = http
        self.browsers = Browsers()
        self._provider: Provider | None = None

    @property
    def provider(self) -> Provider:
        if self._provider is None:  # discovery once, on first use
            self._provider = discover(self.config, self.http)
        return self._provider

    @abstractmethod
    def start_sign_in(self) -> str | Response:
        """GET /login: send the browser to the provider (step 1)."""

    @abstractmethod
    def finish_sign_in(self) -> SignedIn:
        """The callback: check the answer and find out who signed in (steps 3 and 4), or
        raise SignInRefused."""


def session_id() -> str | None:
    return request.cookies.get(COOKIE)


def with_cookie(response: Response, session: str) -> Response:
    response.set_cookie(
        COOKIE, session, httponly=True, samesite="Lax", path="/", secure=request.is_secure
    )
    return response


def add_shell_routes(app: Flask, config: ClientConfig, flow: SignInFlow) -> None:
    """Home, login, callback, photos and logout, around the flow's two steps."""

    @app.get("/")
    def home() -> str | Response:
        browser = flow.browsers.get(session_id())
        if browser is not None and browser.user is not None:
            return redirect("/photos", 303)
        return render_template("home.html")

    @app.get("/login")
    def login() -> str | Response:
        return flow.start_sign_in()

    @app.get(config.callback_path)
    def callback() -> tuple[str, int] | Response:
        try:
            user = flow.finish_sign_in()
        except SignInRefused as refused:
            return error_page(refused.title, refused.message, refused.status)
        new_id = flow.browsers.sign_in(session_id(), user)
        return with_cookie(redirect("/photos", 303), new_id)  # a clean URL (LC-17)

    @app.get("/photos")
    def photos() -> str | Response | tuple[str, int]:
        browser = flow.browsers.get(session_id())
        if browser is None or browser.user is None:
            return redirect("/", 303)
        status, items = fetch_photos(flow.http, flow.provider, browser.user.access_token)
        if status == 401:
            flow.browsers.sign_out(session_id())
            return error_page(
                "Access was revoked",
                "Photo Printer can no longer see your photos. Sign in again to give it access.",
                401,
            )
        return render_template(
            "photos.html",
            user=browser.user,
            photos=items,
            provider=flow.provider.kind,
            csrf=browser.csrf,
        )

    @app.post("/logout")
    def logout() -> Response | tuple[str, int]:
        browser = flow.browsers.get(session_id())
        sent = request.form.get("csrf", "")
        if browser is None or not hmac.compare_digest(browser.csrf.encode(), sent.encode()):
            return error_page("This form has expired", "Reload the page and try again.", 403)
        flow.browsers.sign_out(session_id())
        response = redirect("/", 303)
        response.delete_cookie(COOKIE, path="/")
        return response


def error_page(title: str, message: str, status: int = 400) -> tuple[str, int]:
    return render_template("error.html", title=title, message=message), status


def fetch_photos(
    http: httpx.Client, provider: Provider, access_token: str
) -> tuple[int, list[dict[str, Any]]]:
    """GET the photos with the token in the Authorization header (RFC 6750 §2.1; OA114)."""
    if provider.kind == "github":
        return 200, []
    response = http.get(
        f"{provider.api_base}/api/photos", headers={"Authorization": f"Bearer {access_token}"}
    )
    if response.status_code != 200:
        return response.status_code, []
    photos = response.json().get("photos", [])
    return 200, [p for p in photos if isinstance(p, dict)]

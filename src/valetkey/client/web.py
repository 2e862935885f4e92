"""What both variants of the app share: the Flask app shell, headers, pages, the photos call."""

from __future__ import annotations

from typing import Any

import httpx
from flask import Flask, Response, render_template

from valetkey.client.config import CLIENT_LAB_WARNINGS, ClientConfig
from valetkey.client.provider import Provider

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

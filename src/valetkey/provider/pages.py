"""HTML pages: Jinja2 templates shipped in the package, with the headers every page carries.

No page loads anything from another origin; none can be framed (AS-33); none sends a
referrer (AS-34); none is cached.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cached_property
from importlib import resources
from typing import TYPE_CHECKING, Any

from valetkey.provider.http import Response

if TYPE_CHECKING:
    from jinja2 import Environment

PAGE_HEADERS = [
    ("content-type", "text/html; charset=utf-8"),
    (
        "content-security-policy",
        "default-src 'none'; style-src 'self'; img-src 'self' data:; "
        "frame-ancestors 'none'; base-uri 'none'",
    ),
    ("x-frame-options", "DENY"),  # AS-33 for browsers without frame-ancestors
    ("referrer-policy", "no-referrer"),  # AS-34
    ("x-content-type-options", "nosniff"),
    ("cache-control", "no-store"),
]

FRAMEABLE_HEADERS = [
    (name, value.replace(" frame-ancestors 'none';", ""))
    for name, value in PAGE_HEADERS
    if name != "x-frame-options"
]

SCOPE_WORDS = {
    "openid": "Confirm who you are (an account identifier, not your password)",
    "profile": "See your name and username",
    "email": "See your email address",
    "photos.read": "View your photos",
    "offline_access": "Keep this access while you are away, until you revoke it",
    "read:user": "See your public profile",
}


def describe_scope(scope: str) -> str:
    return SCOPE_WORDS.get(scope, f"Use the permission “{scope}”")


class Pages:
    """Templates are compiled on first use: a sandbox used only by API tests never pays."""

    def __init__(
        self, banners: Sequence[str] = (), framing: bool = False, prefix: str = ""
    ) -> None:
        self.banners = list(banners)
        self.prefix = prefix
        self.folder = resources.files("valetkey.provider")
        # LAB framing: no anti-framing headers at all (AS-33 fails on purpose)
        self.headers = FRAMEABLE_HEADERS if framing else PAGE_HEADERS

    @cached_property
    def env(self) -> Environment:
        from jinja2 import Environment, FileSystemLoader, select_autoescape

        env = Environment(
            loader=FileSystemLoader(str(self.folder / "templates")),
            autoescape=select_autoescape(["html"]),
            auto_reload=False,
        )
        env.globals["lab_banners"] = self.banners
        env.globals["prefix"] = self.prefix
        env.filters["describe_scope"] = describe_scope
        return env

    @cached_property
    def stylesheet(self) -> bytes:
        return (self.folder / "static" / "valetkey.css").read_bytes()

    def render(
        self,
        template: str,
        status: int = 200,
        extra: Sequence[tuple[str, str]] = (),
        csp_extra: Sequence[str] = (),
        **context: Any,
    ) -> Response:
        """`csp_extra`: directives this page adds to the policy (a script nonce, say)."""
        body = self.env.get_template(template).render(**context).encode()
        headers = [
            (name, "; ".join([value, *csp_extra]) if name == "content-security-policy" else value)
            for name, value in self.headers
        ]
        return Response(status, body, [*headers, *extra])

    def error(self, title: str, message: str, status: int = 400) -> Response:
        return self.render("error.html", status=status, title=title, message=message)

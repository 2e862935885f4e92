"""Form posts from this origin only: the browser's own word on where a POST came from.

A page on another origin of the same host (cookies are not isolated by port) can submit a
form to the sandbox with the sandbox's cookies. CSRF tokens stop that for a token it cannot
read; this stops it before any token is looked at. Browsers say where a request came from
in `Sec-Fetch-Site` (Fetch Metadata) and `Origin` (RFC 6454 §7, Fetch §3.1); a POST whose
`Sec-Fetch-Site` is anything but same-origin, or, without it, whose `Origin` is another
origin (or `null`), is refused with 403. Clients that send neither (not browsers) go on to
the CSRF check.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from valetkey.provider.core import Provider
from valetkey.provider.http import Request, Response

Handler = Callable[[Provider, Request], Response | Awaitable[Response]]


def cross_origin(provider: Provider, request: Request) -> bool:
    """Did a browser send this request from a page of another origin?"""
    site = request.headers.get("sec-fetch-site")
    if site is not None:
        # Fetch Metadata §2.1: "none" is a user-initiated navigation (typed, bookmarked)
        return site.strip().lower() not in ("same-origin", "none")
    origin = request.headers.get("origin")
    return origin is not None and origin.strip() != provider.origin


def same_origin_only(handler: Handler) -> Handler:
    """The handler, behind a 403 page for a cross-origin form post."""

    def run(provider: Provider, request: Request) -> Response | Awaitable[Response]:
        if request.method == "POST" and cross_origin(provider, request):
            return provider.page_error(
                "This form was sent from another site",
                "Forms here can only be sent from this site's own pages. "
                "Go back to the app and start again.",
                403,
            )
        return handler(provider, request)

    return run

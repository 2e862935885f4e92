"""Response types and response modes: what the authorization endpoint returns, and how it
travels back to the client (OAuth 2.0 Multiple Response Types, OAuth 2.0 Form Post
Response Mode).

The strict sandbox knows one combination: `code`, in the query. With LAB implicit it also
returns tokens from the authorization endpoint (`token`, `id_token`, `id_token token`), in
the URL fragment (their default mode) or in an auto-submitted form POSTed to the client.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlencode, urlsplit

from valetkey.provider.http import Response, add_query, redirect
from valetkey.provider.pages import Pages

CODE = frozenset({"code"})
# the implicit response types LAB implicit serves (RFC 6749 §4.2; OIDC Core §3.2)
IMPLICIT_TYPES = (frozenset({"token"}), frozenset({"id_token"}), frozenset({"id_token", "token"}))
QUERY, FRAGMENT, FORM_POST = "query", "fragment", "form_post"
# a CSP source may only hold these; anything else in a redirect URI's origin drops form-action
CSP_ORIGIN = re.compile(r"https?://[A-Za-z0-9.\-:\[\]]+")


def parse_response_type(value: str) -> frozenset[str]:
    """The space-separated values as a set: their order does not matter (Multiple Response
    Types §2)."""
    return frozenset(value.split(" "))


def spell(types: frozenset[str]) -> str:
    """One spelling of a response type, for storage and messages (`id_token token`)."""
    return " ".join(sorted(types))


def default_mode(types: frozenset[str]) -> str:
    """Multiple Response Types §2.1, §5: query for `code`, fragment for anything returning
    a token."""
    return QUERY if types == CODE else FRAGMENT


@dataclass(frozen=True)
class ResponseKind:
    """What the client asked for, kept with the pending request through login and consent.

    The pending request stores it in its one response_type column: the type, then
    `;form_post` when that mode was asked for (`code`, `token` and `id_token token` read as
    their default mode, so rows from before the lab extension read as they were written).
    """

    types: frozenset[str] = CODE
    mode: str = QUERY

    @property
    def returns_code(self) -> bool:
        return "code" in self.types

    def stored(self) -> str:
        suffix = "" if self.mode == default_mode(self.types) else f";{self.mode}"
        return spell(self.types) + suffix

    @classmethod
    def from_stored(cls, text: str) -> ResponseKind:
        spelled, _, mode = text.partition(";")
        types = parse_response_type(spelled)
        return cls(types, mode or default_mode(types))


def respond(
    pages: Pages, redirect_uri: str, params: Mapping[str, str | None], mode: str, status: int
) -> Response:
    """Send an authorization response (or error) to the validated redirect URI in `mode`."""
    clean = {k: v for k, v in params.items() if v is not None}
    if mode == FORM_POST:
        return form_post_page(pages, redirect_uri, clean)
    if mode == FRAGMENT:  # RFC 6749 §4.2.2: application/x-www-form-urlencoded in the fragment
        return redirect(f"{redirect_uri}#{urlencode(clean)}", status)
    return redirect(add_query(redirect_uri, clean), status)


def form_post_page(pages: Pages, redirect_uri: str, fields: Mapping[str, str]) -> Response:
    """OAuth 2.0 Form Post Response Mode §2: an HTML form POSTed to the redirect URI by a
    script the page allows by nonce alone; a <noscript> button for browsers without scripts.
    Nothing is loaded from another origin, and the form may only go to the client."""
    nonce = secrets.token_urlsafe(16)
    directives = [f"script-src 'nonce-{nonce}'"]
    origin = _origin(redirect_uri)
    if CSP_ORIGIN.fullmatch(origin):
        directives.append(f"form-action {origin}")
    return pages.render(
        "form_post.html",
        csp_extra=directives,
        action=redirect_uri,
        fields=sorted(fields.items()),
        script_nonce=nonce,
    )


def _origin(uri: str) -> str:
    parts = urlsplit(uri)
    return f"{parts.scheme}://{parts.netloc}"

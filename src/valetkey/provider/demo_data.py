"""The demo world: two users, the photo-printer clients, and each user's photos.

Created only when the database has no users. Passwords and the confidential client's secret
are generated at random on first start and printed once; nothing secret is written in code.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from valetkey.oauth.client_metadata import IMPLICIT_RESPONSE_TYPES, client_metadata
from valetkey.provider.passwords import Passwords
from valetkey.provider.registration import client_record
from valetkey.provider.resources import resource_record
from valetkey.provider.store.queries import Store

DEMO_SCOPES = frozenset(
    {"openid", "profile", "email", "photos.read", "offline_access", "read:user"}
)

USERS = {
    "alice": {
        "name": "Alice Liddell",
        "given_name": "Alice",
        "email": "alice@example.org",
        "email_verified": True,
    },
    "bob": {
        "name": "Bob Marley",
        "given_name": "Bob",
        "email": "bob@example.org",
        "email_verified": True,
    },
}

PHOTOS = {
    "alice": [
        ("p-101", "Tea party in the garden", "2026-04-12", "#c2410c"),
        ("p-102", "White rabbit, blurred", "2026-04-13", "#64748b"),
        ("p-103", "Croquet lawn at noon", "2026-05-02", "#15803d"),
        ("p-104", "Looking-glass reflection", "2026-06-21", "#7c3aed"),
        ("p-105", "Chessboard fields", "2026-07-08", "#b45309"),
        ("p-106", "Cheshire grin at dusk", "2026-08-30", "#be185d"),
    ],
    "bob": [
        ("p-201", "Trenchtown rooftops", "2026-02-06", "#ca8a04"),
        ("p-202", "Sound system, night", "2026-03-14", "#1d4ed8"),
        ("p-203", "Blue Mountains", "2026-05-11", "#0f766e"),
    ],
}


def photos_for(username: str) -> list[dict[str, str]]:
    return [
        {"id": pid, "title": title, "taken": taken, "color": color}
        for pid, title, taken, color in PHOTOS.get(username, [])
    ]


@dataclass(frozen=True)
class DemoCredentials:
    passwords: dict[str, str]
    client_secret: str
    redirect_uris: tuple[str, ...]
    spa_redirect_uris: tuple[str, ...]


DEMO_REDIRECTS = ("http://127.0.0.1:8500/callback", "http://localhost:8500/callback")
SPA_REDIRECTS = ("http://127.0.0.1:8501/callback",)
# the reference MCP server (`valetkey mcp serve`'s default URL) and its scopes (RFC 8707)
MCP_RESOURCE = "http://127.0.0.1:8790/mcp"
MCP_SCOPES = ("photos.read", "photos.print")
# a public MCP client, as the MCP Inspector and other local MCP clients are
MCP_CLIENT = "mcp-inspector"
MCP_REDIRECTS = ("http://127.0.0.1:8791/callback",)


def _seed_mcp(store: Store, now: float) -> None:
    """The reference MCP server as a resource, and a public MCP client that may ask for it."""
    if store.resource(MCP_RESOURCE) is None:
        resource = resource_record(MCP_RESOURCE, MCP_SCOPES, "Photo MCP server")
        store.add_resource(resource, now)
    if store.client(MCP_CLIENT) is None:
        inspector = client_metadata(
            client_id=MCP_CLIENT,
            name="MCP Inspector",
            public=True,
            redirect_uris=MCP_REDIRECTS,
            scope=" ".join(("openid", "offline_access", *MCP_SCOPES)),
        )
        store.add_client(client_record(inspector, None), now)


def seed(
    store: Store, passwords: Passwords, now: float, implicit_lab: bool = False
) -> DemoCredentials | None:
    """Create the demo world if there are no users yet; return its credentials once.

    With the implicit lab switch on, the confidential demo client is also registered for
    the implicit response types, so that the lab's lesson works on it; the strict sandbox
    refuses those response types whatever a client registered (AS-21)."""
    if store.count_users() > 0:
        return None
    chosen = {name: secrets.token_urlsafe(9) for name in USERS}
    for name, claims in USERS.items():
        store.add_user(name, passwords.hash(chosen[name]), dict(claims), now)
    secret = secrets.token_urlsafe(32)
    scope = " ".join(sorted(DEMO_SCOPES))
    lab_types = ("code", *IMPLICIT_RESPONSE_TYPES) if implicit_lab else None
    if store.client("photo-printer") is None:
        printer = client_metadata(
            client_id="photo-printer",
            name="Photo Printer",
            redirect_uris=DEMO_REDIRECTS,
            post_logout_redirect_uris=("http://127.0.0.1:8500/", "http://localhost:8500/"),
            scope=scope,
            response_types=lab_types,
        )
        store.add_client(client_record(printer, secret), now)
    if store.client("photo-printer-spa") is None:
        spa = client_metadata(
            client_id="photo-printer-spa",
            name="Photo Printer (browser app)",
            public=True,
            redirect_uris=SPA_REDIRECTS,
            post_logout_redirect_uris=("http://127.0.0.1:8501/",),
            scope=scope,
        )
        store.add_client(client_record(spa, None), now)
    _seed_mcp(store, now)
    return DemoCredentials(chosen, secret, DEMO_REDIRECTS, SPA_REDIRECTS)

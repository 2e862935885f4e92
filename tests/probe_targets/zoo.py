"""The zoo: client apps in several frameworks and styles, each with the LC checks it must
fail (its FAILS) and how it shows that a browser is signed in (its SIGNAL). `serving` runs
one on a free loopback port, whatever its framework: WSGI (Flask, Django) with werkzeug,
ASGI (FastAPI, Starlette) with uvicorn, aiohttp with its own runner; each in a thread."""

from __future__ import annotations

import asyncio
import importlib
import secrets
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any

from tests.probe_targets.kit import Cfg
from tests.support.asgi_server import AsgiServer
from valetkey.client.server import BackgroundServer, free_socket

APPS = (
    "flask_authlib_shop",
    "fastapi_notes",
    "django_ledger",
    "aiohttp_wiki",
    "starlette_badge",
    "flask_recipes",
    "starlette_tasks",
    "flask_pkce_gallery",
    "fastapi_global_state",
    "aiohttp_pending_board",
    "flask_weak_state",
    "django_sticky_state",
    "fastapi_replay",
    "starlette_forum",
    "flask_bare_oauth",
    "aiohttp_bare_oauth",
    "flask_proxy_aware",
    "starlette_host_builder",
    "django_trusting",
    "fastapi_userinfo_login",
    "flask_jwt_peek",
    "aiohttp_debug_pages",
    "flask_js_session",
    "django_fixed_session",
    "flask_form_post_guestbook",
    "django_id_token_directory",
)


@dataclass(frozen=True)
class ZooApp:
    name: str
    module: ModuleType

    @property
    def fails(self) -> frozenset[str]:
        return frozenset(self.module.FAILS)

    @property
    def framework(self) -> str:
        return self.name.split("_", 1)[0]

    @property
    def scope(self) -> str:
        return str(getattr(self.module, "SCOPE", "openid profile email"))

    @property
    def sandbox(self) -> str:
        """Which sandbox it needs (a key of SANDBOX_LABS): strict unless it says."""
        return str(getattr(self.module, "SANDBOX", ""))

    @property
    def not_judged(self) -> frozenset[str]:
        """The checks the probe cannot judge on this app (n/a, with a reason)."""
        return frozenset(getattr(self.module, "NOT_JUDGED", ()))


def load(name: str) -> ZooApp:
    return ZooApp(name, importlib.import_module(f"tests.probe_targets.{name}"))


class AiohttpServer:
    def __init__(self, app: Any, sock: Any) -> None:
        from aiohttp import web

        self.sock, self.loop = sock, asyncio.new_event_loop()
        self.runner = web.AppRunner(app, access_log=None)
        self.web = web
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)

    def start(self) -> AiohttpServer:
        self.loop.run_until_complete(self.runner.setup())
        site = self.web.SockSite(self.runner, self.sock)
        self.loop.run_until_complete(site.start())
        self.thread.start()
        return self

    def stop(self) -> None:
        asyncio.run_coroutine_threadsafe(self.runner.cleanup(), self.loop).result(timeout=5)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(timeout=5)


@contextmanager
def serving(app: ZooApp, cfg_for: Any) -> Iterator[str]:
    """Build the app for its origin (cfg_for(origin, scope) -> Cfg), serve it, yield its URL."""
    sock = free_socket()
    origin = f"http://127.0.0.1:{sock.getsockname()[1]}"
    cfg: Cfg = cfg_for(origin, app.scope)
    built = app.module.build(cfg)
    server: Any
    if app.framework in ("flask", "django"):
        server = BackgroundServer(built, sock).start()
    elif app.framework == "aiohttp":
        server = AiohttpServer(built, sock).start()
    else:
        server = AsgiServer(built, sock).start()
    try:
        yield origin
    finally:
        server.stop()


# the lab switches each kind of zoo app needs its sandbox to have (its SANDBOX label)
SANDBOX_LABS: dict[str, tuple[str, ...]] = {
    "": (),
    "no-pkce": ("--lab", "no-pkce"),  # apps that send no code_challenge
    "implicit": ("--lab", "implicit"),  # legacy implicit apps: tokens from /authorize
}


@dataclass
class Sandboxes:
    """The providers the zoo apps need, all in --probe-mode: the strict sandbox, and one per
    lab switch an app needs (started the first time an app needs it)."""

    folder: Any
    running: dict[str, Any] = field(default_factory=dict)  # label -> tests.support Sandbox

    def for_app(self, app: ZooApp) -> Any:
        return self.labelled(app.sandbox)

    def labelled(self, label: str) -> Any:
        from tests.support.sandbox import start_sandbox

        if label not in self.running:
            folder = self.folder / (label or "strict")
            self.running[label] = start_sandbox(folder, "--probe-mode", *SANDBOX_LABS[label])
        return self.running[label]

    @property
    def strict(self) -> Any:
        return self.labelled("")

    def stop(self) -> None:
        for sandbox in self.running.values():
            sandbox.stop()
        self.running.clear()


def start_sandboxes(folder: Any) -> Sandboxes:
    return Sandboxes(folder)


def probe(
    app: ZooApp,
    sandboxes: Sandboxes,
    only: Any = None,
    registered_scope: str | None = None,
    **fields: Any,
) -> Any:
    """Register the app as a fresh client (allowed `registered_scope`, by default the app's),
    serve it, run `valetkey probe client` on it (extra ClientTarget fields in `fields`)."""
    from valetkey.probe.client import run_client_probe
    from valetkey.probe.client_session import ClientTarget

    sandbox = sandboxes.for_app(app)
    client_id = f"zoo-{app.name}-{secrets.token_hex(3)}"
    secret = secrets.token_urlsafe(32)

    # a legacy implicit app registers the implicit response types too (RFC 7591 §2.1)
    implicit = app.sandbox == "implicit"
    grants = ("authorization_code", "refresh_token") + (("implicit",) if implicit else ())
    types = ("code", "token", "id_token", "id_token token") if implicit else None

    def cfg_for(origin: str, scope: str) -> Cfg:
        allowed = registered_scope or scope
        sandbox.add_client(
            client_id,
            secret,
            (origin + "/callback",),
            scopes=allowed,
            grants=grants,
            response_types=types,
        )
        return Cfg(sandbox.issuer, client_id, secret, origin, scope=scope)

    with serving(app, cfg_for) as origin:
        target = ClientTarget(
            origin + "/login",
            sandbox.issuer,
            "alice",
            sandbox.password("alice"),
            "bob",
            sandbox.password("bob"),
            sandbox_token=sandbox.admin_token,
            **fields,
        )
        return run_client_probe(target, only)

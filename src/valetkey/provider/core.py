"""The provider: settings, store, keys and clock, loaded once and shared by every endpoint."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging
import os
import secrets
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, TypeVar

from valetkey.provider import lab
from valetkey.provider.admin_state import AdminState, Clock
from valetkey.provider.checks import (
    Action,
    DpopInputs,
    FormContext,
    ProofIds,
    RecordPoll,
    RevokeGrant,
    Table,
    TokenContext,
    rfc8707,
)
from valetkey.provider.checks.rfc6749 import presented_credentials
from valetkey.provider.checks.rfc9449 import ReplayCache
from valetkey.provider.client_documents import DocumentCache
from valetkey.provider.flows import FlowRecorder
from valetkey.provider.http import Params, Request, Response, cookie
from valetkey.provider.keys import KeyRing, load_key_ring
from valetkey.provider.lab import LabSwitch
from valetkey.provider.login_throttle import LoginThrottle
from valetkey.provider.pages import Pages
from valetkey.provider.passwords import Passwords
from valetkey.provider.pending_cap import PendingCap
from valetkey.provider.probe_mode import ProbeControl
from valetkey.provider.settings import Settings
from valetkey.provider.shared_state import SharedAdminState, SharedClock, SharedProofIds
from valetkey.provider.store.queries import Store
from valetkey.provider.store.records import AuthRequest, LoginSession, Resource
from valetkey.provider.tokens import digest, same

log = logging.getLogger("valetkey.provider")
C = TypeVar("C")

BROWSER_COOKIE = "vk_browser"
SESSION_COOKIE = "vk_session"


@dataclass(frozen=True)
class Browser:
    """Who is on the other end of a page request: a browser id, and a login session if any."""

    id: str
    is_new: bool
    session_id: str | None
    session: LoginSession | None

    @property
    def hash(self) -> str:
        return digest(self.id)


class Provider:
    def __init__(
        self, settings: Settings, store: Store, clock: Clock | None = None, tenant: str = ""
    ) -> None:
        self.settings = settings
        self.store = store
        self.shared = store.database.dialect == "postgresql"  # state other instances see
        self.clock = clock or (SharedClock(store) if self.shared else Clock())
        # a tenant is a separate issuer under /tenants/NAME, with its own store and keys
        self.prefix = f"/tenants/{tenant}" if tenant else ""
        self.issuer = settings.issuer_url + self.prefix
        self.browser_cookie = BROWSER_COOKIE + (f"_{tenant}" if tenant else "")
        self.session_cookie = SESSION_COOKIE + (f"_{tenant}" if tenant else "")
        self.keys: KeyRing = load_key_ring(store, self.clock.now())
        self._keys_version = store.keys_version()
        self._keys_checked = time.monotonic()
        self.keys_refreshing = False  # a background look for new keys is under way
        self.passwords = Passwords(weak=LabSwitch.WEAK_PASSWORD_HASH in settings.lab)
        self.csrf_key = bytes.fromhex(store.get_or_create_state("csrf_key", secrets.token_hex(32)))
        self.pages = Pages(
            [switch.warning for switch in sorted(settings.lab, key=str)],
            framing=LabSwitch.FRAMING in settings.lab,
            prefix=self.prefix,
        )
        self.flows = FlowRecorder(
            store, self.clock, settings.flow_retention, settings.flow_retention_days
        )
        self.secure_cookies = self.issuer.startswith("https://")
        self.probe = ProbeControl() if LabSwitch.PROBE_MODE in settings.lab else None
        self.dpop_replay: ProofIds = SharedProofIds(store) if self.shared else ReplayCache()
        self.dpop = DpopInputs(self.origin, self.dpop_replay)  # what DPoP checks read
        self.documents = DocumentCache(settings.cimd_allow)  # client ID metadata documents
        self.admin = SharedAdminState(store) if self.shared else AdminState()
        self._lab_lines = [
            f"LAB SWITCH {switch.value} is on: {switch.warning}"
            for switch in sorted(settings.lab, key=str)
        ]
        self._pruned_at = time.monotonic()
        self.pending = PendingCap(settings.max_pending_requests, store.count_auth_requests)
        self.admin_token = settings.admin_token
        self._hashing: ThreadPoolExecutor | None = None
        self.login_throttle = LoginThrottle()
        self._tables: dict[int, Table[Any]] = {}  # by the id of the strict table

    async def verify_password(
        self, stored: str | None, password: str, keys: Sequence[str] = ()
    ) -> bool:
        """argon2 releases the GIL, so it runs in worker threads and the server keeps
        answering; at most one per core at a time: more only queues work and, at 19 MiB
        each, memory. `keys` (the user, the client address) are throttled after wrong
        passwords, and the checks in flight are bounded: TooManyAttempts (429) instead."""
        if self._hashing is None:
            workers = os.cpu_count() or 1
            self._hashing = ThreadPoolExecutor(workers, thread_name_prefix="valetkey-argon2")
        self.login_throttle.admit(keys, time.monotonic())
        ok = False
        try:
            loop = asyncio.get_running_loop()
            ok = await loop.run_in_executor(self._hashing, self.passwords.verify, stored, password)
        finally:
            self.login_throttle.done(keys, ok, time.monotonic())
        return ok

    def path(self, path: str) -> str:
        """A path of this issuer (with the tenant's prefix)."""
        return self.prefix + path

    @property
    def origin(self) -> str:
        scheme, _, rest = self.issuer.partition("://")
        return f"{scheme}://{rest.split('/', 1)[0]}"

    def keys_due(self, every: float = 5.0) -> bool:
        """Is it time to look for keys another instance generated or rotated?"""
        return time.monotonic() - self._keys_checked >= every

    def refresh_keys(self, every: float = 5.0) -> None:
        """Pick up keys another instance generated or rotated (checked every few seconds).
        A store call: the app runs it in a store worker, never on the event loop."""
        if not self.keys_due(every):
            return
        self._keys_checked = time.monotonic()
        version = self.store.keys_version()
        if version != self._keys_version:
            self._keys_version = version
            self.keys = load_key_ring(self.store, self.clock.now())

    def housekeeping(self, every: float = 60.0) -> None:
        """After a token response, at most once every `every` seconds, delete expired rows
        (the database stays small; each pruning scans the tables). `valetkey serve` also
        prunes on a timer (`prune_now`), so an idle or attacked server stays small too."""
        if time.monotonic() - self._pruned_at >= every:
            self.prune_now()

    def prune_now(self) -> None:
        self._pruned_at = time.monotonic()
        self.store.prune_expired(self.clock.now())
        self.pending.forget()

    def save_pending(self, request: AuthRequest) -> bool:
        """Store a pending authorization request, unless `max_pending_requests` are stored
        already and pruning the expired ones makes no room (issue 15 M6: /authorize needs no
        authentication, so what it stores is bounded: each row is under about 5 KB)."""
        if not self.pending.admit():
            self.prune_now()
            if not self.pending.admit():
                return False
        self.store.save_auth_request(request)
        return True

    def perform(self, actions: Sequence[Action]) -> None:
        """What a request's checks asked to be done to the store, in its one transaction."""
        now = self.clock.now()
        for action in actions:
            if isinstance(action, RevokeGrant):
                self.store.revoke_grant(action.grant_id, now)
            elif isinstance(action, RecordPoll):
                self.store.record_device_poll(action.device_code_hash, now, action.interval)
            else:
                self.store.revoke_token(action.token_id, now)

    def load_credentials(self, ctx: TokenContext) -> None:
        """The credentials a back-channel request presents and the stored client they name,
        read for the checks (`rfc6749.authenticate` then decides whether they authenticate
        it)."""
        ctx.credentials = presented = presented_credentials(ctx.request)
        if presented.client_id:
            ctx.named_client = self.store.client(presented.client_id)

    def named_resources(self, params: Params) -> dict[str, Resource]:
        """The registered resources the well-formed `resource` values name, by canonical URI
        (RFC 8707 §2), read for the checks; at most as many as the checks accept."""
        found: dict[str, Resource] = {}
        for value in params.values("resource")[: rfc8707.MAX_RESOURCES]:
            uri = rfc8707.canonical_or_none(value)
            resource = None if uri is None else self.store.resource(uri)
            if resource is not None:
                found[resource.uri] = resource
        return found

    def table(self, table: Table[C]) -> Table[C]:
        """`table` as this sandbox's lab switches change it: worked out once, then reused."""
        found = self._tables.get(id(table))
        if found is None:
            found = self._tables[id(table)] = lab.apply(table, self.settings.lab)
        return found

    def lab(self, switch: LabSwitch) -> bool:
        """Is this deliberately insecure behaviour switched on?"""
        return switch in self.settings.lab

    # -- browsers, sessions and CSRF ----------------------------------------------------------

    def _browser_mac(self, nonce: str) -> str:
        message = f"browser-id|{nonce}".encode()
        return hmac.new(self.csrf_key, message, hashlib.sha256).hexdigest()[:32]

    def new_browser_id(self) -> str:
        """A browser id only this server can make: a random part and its MAC."""
        nonce = secrets.token_urlsafe(32)
        return f"{nonce}.{self._browser_mac(nonce)}"

    def _issued_here(self, browser_id: str) -> bool:
        nonce, _, mac = browser_id.rpartition(".")
        return len(nonce) >= 32 and same(self._browser_mac(nonce), mac)

    def browser(self, request: Request) -> Browser:
        """The browser behind a page request. A browser id this server did not issue (a
        value planted by another site on the same host, say) is replaced by a new one."""
        browser_id = request.cookies.get(self.browser_cookie, "")
        is_new = not self._issued_here(browser_id)
        if is_new:
            browser_id = self.new_browser_id()
        session_id = request.cookies.get(self.session_cookie)
        session = None
        if session_id:
            session = self.store.session(digest(session_id), self.clock.now())
        return Browser(browser_id, is_new, session_id if session else None, session)

    def browser_cookies(self, browser: Browser) -> list[tuple[str, str]]:
        if not browser.is_new:
            return []
        return [
            cookie(
                self.browser_cookie, browser.id, secure=self.secure_cookies, path=self.prefix or "/"
            )
        ]

    def csrf_token(self, browser: Browser, purpose: str, request_id: str = "") -> str:
        """A form's CSRF token, bound to what another site cannot plant in this browser: the
        login session when there is one (its cookie is HttpOnly and never shown), else the
        server-issued browser id; and to the pending authorization request the form is for."""
        bound = f"session|{browser.session_id}" if browser.session_id else f"browser|{browser.id}"
        message = f"{bound}|{purpose}|{request_id}".encode()
        return hmac.new(self.csrf_key, message, hashlib.sha256).hexdigest()

    def form_context(
        self, browser: Browser, form: Params, purpose: str, request_id: str = ""
    ) -> FormContext:
        """What the form checks (`checks.csrf`, `checks.oidc`) read of a posted page form."""
        expected = self.csrf_token(browser, purpose, request_id)
        return FormContext(form, browser.is_new, expected, browser.session is not None)

    def start_session(
        self, browser: Browser, user_id: int
    ) -> tuple[list[tuple[str, str]], Browser]:
        """A new login session with a new id at every login, and a new browser id too (so
        nothing planted before the login survives it); returns their cookies and the browser."""
        session_id = secrets.token_urlsafe(32)
        now = self.clock.now()
        ttl = self.settings.session_ttl
        self.store.create_session(digest(session_id), user_id, now, now + ttl)
        session = LoginSession(user_id, now, now + ttl)
        fresh = Browser(self.new_browser_id(), True, session_id, session)
        secure, path = self.secure_cookies, self.prefix or "/"
        headers = [
            cookie(self.session_cookie, session_id, secure=secure, max_age=ttl, path=path),
            *self.browser_cookies(fresh),
        ]
        return headers, fresh

    def end_session(self, browser: Browser) -> tuple[str, str]:
        if browser.session_id:
            self.store.delete_session(digest(browser.session_id))
        return cookie(
            self.session_cookie, "", secure=self.secure_cookies, max_age=0, path=self.prefix or "/"
        )

    def lab_log(self) -> None:
        """A warning line per switch that is on, at every request (written once, reused)."""
        for line in self._lab_lines:
            log.warning(line)

    def page_error(self, title: str, message: str, status: int = 400) -> Response:
        return self.pages.error(title, message, status)

    def not_found(self) -> Response:
        """What an address with nothing behind it answers (or an endpoint switched off)."""
        return self.page_error("Not found", "There is no page at this address.", 404)

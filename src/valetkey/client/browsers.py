"""Server-side state per browser: the pending sign-in and, after it, who is signed in.

The browser holds only a random session id in an HttpOnly, SameSite=Lax cookie; state,
nonce, PKCE verifier and tokens stay on the server (LC-19). The id changes at sign-in.
"""

from __future__ import annotations

import secrets
import threading
import time
from dataclasses import dataclass, field

COOKIE = "pp_session"


@dataclass
class Pending:
    state: str
    nonce: str
    verifier: str
    started: float = field(default_factory=time.time)


@dataclass
class SignedIn:
    subject: str  # (issuer, sub) for OIDC; ("github", id) for GitHub
    name: str
    username: str
    access_token: str = field(repr=False)


@dataclass
class BrowserState:
    csrf: str = field(default_factory=lambda: secrets.token_urlsafe(32))
    pending: Pending | None = None
    user: SignedIn | None = None


class Browsers:
    """Browser states by session id, with an index of pending sign-ins by state (for the lab)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._by_id: dict[str, BrowserState] = {}
        self._by_state: dict[str, str] = {}

    def get(self, session_id: str | None) -> BrowserState | None:
        with self._lock:
            return self._by_id.get(session_id or "")

    def create(self) -> tuple[str, BrowserState]:
        session_id = secrets.token_urlsafe(32)
        state = BrowserState()
        with self._lock:
            self._by_id[session_id] = state
        return session_id, state

    def start(self, session_id: str, pending: Pending) -> None:
        with self._lock:
            browser = self._by_id[session_id]
            if browser.pending is not None:
                self._by_state.pop(browser.pending.state, None)
            browser.pending = pending
            self._by_state[pending.state] = session_id

    def take_pending(self, session_id: str) -> Pending | None:
        """This browser's pending sign-in, removed so that it works once."""
        with self._lock:
            browser = self._by_id.get(session_id)
            if browser is None or browser.pending is None:
                return None
            pending, browser.pending = browser.pending, None
            self._by_state.pop(pending.state, None)
            return pending

    def take_pending_by_state(self, state: str) -> Pending | None:
        """LAB ONLY (no-state-check): any browser's pending sign-in with this state."""
        with self._lock:
            owner = self._by_state.pop(state, None)
            browser = self._by_id.get(owner or "")
            if browser is None or browser.pending is None:
                return None
            pending, browser.pending = browser.pending, None
            return pending

    def sign_in(self, old_id: str | None, user: SignedIn) -> str:
        """A new session id for the signed-in browser; the old one stops working."""
        new_id, state = self.create()
        state.user = user
        with self._lock:
            self._by_id.pop(old_id or "", None)
        return new_id

    def sign_out(self, session_id: str | None) -> None:
        with self._lock:
            self._by_id.pop(session_id or "", None)

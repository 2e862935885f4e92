"""State that several instances on one PostgreSQL database must share, kept in it: the
DPoP proof ids seen (RFC 9449 §11.1), the admin clock's offset and the claims queued for
a user's or a client's next token. Injected faults are still per instance.

One process on SQLite keeps both in memory (`admin_state.Clock`, `rfc9449.ReplayCache`):
nothing else reads its database while it runs, and the in-memory path costs no statement.
"""

from __future__ import annotations

import json
import threading
from typing import Any

from valetkey.provider.admin_state import AdminState, Clock
from valetkey.provider.checks.rfc9449 import MAX_AGE
from valetkey.provider.store.queries import Store
from valetkey.provider.tokens import digest


class SharedProofIds:
    """DPoP proof jtis in the `dpop_proofs` table: a jti used at any instance is a replay at
    every other. A row lives as long as a proof with that jti could pass the iat window
    (MAX_AGE either side of now); `Store.prune_expired` deletes it after that."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def first_use(self, jti: str, now: float) -> bool:
        # RFC 9449 §11.1: the hash, so any jti (long, or with a NUL) fits the key column
        return self.store.first_proof_use(digest(jti), now + 2 * MAX_AGE)


class SharedClock(Clock):
    """The admin clock with its offset in the database (`server_state`), read once per
    request: `begin()` (at the start of each request, in its store worker) marks it stale,
    and the request's first `now()` reads it, one autocommit SELECT before the request's
    first write (the store runs a read before any write on its own). `POST /admin/clock`
    commits before it answers, so a clock moved at one instance applies at every other
    from its next request. Calls outside a request (the event loop, timers) use the offset
    read last. Cost on PostgreSQL: about 60 Python calls (+15%) per token request
    (`bench/provider/calls.py --postgres` against `--memory-clock`)."""

    def __init__(self, store: Store) -> None:
        super().__init__(store.clock_offset())
        self.store = store
        self._local = threading.local()

    def begin(self) -> None:
        self._local.stale = True

    def now(self) -> float:
        if getattr(self._local, "stale", False):
            self.offset = self.store.clock_offset()
            self._local.stale = False
        return super().now()

    def advance(self, seconds: float) -> None:
        self.offset = self.store.advance_clock(seconds)
        self._local.stale = False


class SharedAdminState(AdminState):
    """The admin state with queued claims in the `queued_claims` table: claims queued at
    one instance go into the next token that any instance issues for that user or client,
    and only that one. Taking them is a DELETE ... RETURNING in the token request's
    transaction: one statement per token on this path."""

    def __init__(self, store: Store) -> None:
        super().__init__()
        self.store = store

    def queue_claims(self, kind: str, name: str, claims: dict[str, Any]) -> None:
        self.store.queue_claims(kind, name, json.dumps(claims))

    def take_claims(self, kind: str, name: str) -> dict[str, Any]:
        found = self.store.take_claims(kind, name)
        return {} if found is None else dict(json.loads(found))

    def may_have_claims(self) -> bool:
        return True  # another instance may have queued some

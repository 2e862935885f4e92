"""State that several instances on one PostgreSQL database must share, kept in it: the
DPoP proof ids seen (RFC 9449 §11.1), the admin clock's offset, the faults the admin API
injected and the claims queued for a user's or a client's next token.

One process on SQLite keeps them in memory (`admin_state`, `rfc9449.ReplayCache`): nothing
else reads its database while it runs, and the in-memory path costs no statement.
"""

from __future__ import annotations

import json
import threading
from typing import Any

from valetkey.provider.admin_state import AdminState, Clock, Fault
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
    """The admin clock with its offset in the database (`server_state`). Each request reads
    it as it starts (`SharedAdminState.start_request`), so a clock moved at one instance
    applies at every other from its next request: `POST /admin/clock` commits before it
    answers. Calls outside a request (the event loop, timers) use the offset read last."""

    def __init__(self, store: Store) -> None:
        super().__init__(store.clock_offset())
        self.store = store

    def follow(self, offset: float) -> None:
        self.offset = offset

    def advance(self, seconds: float) -> None:
        self.offset = self.store.advance_clock(seconds)


class SharedAdminState(AdminState):
    """The admin state with injected faults and queued claims in the database.

    Each request starts with one statement (`Store.request_state`, in its store worker):
    it reads the clock's offset and whether any claims are queued, and takes the request
    path's fault if one is injected (an UPDATE of its count), so that a fault injected at
    one instance is met by exactly as many requests, at whichever instances they arrive.
    Discovery and the JWKS, answered on the event loop elsewhere, go to a worker for that
    statement here. Claims queued at one instance go into the next token that any instance
    issues for that user or client, and only that one: taking them is a DELETE ... RETURNING
    in the token request's transaction, made only when the request's first statement saw
    claims queued."""

    def __init__(self, store: Store) -> None:
        super().__init__()
        self.store = store
        self._local = threading.local()

    def inject(self, fault: Fault) -> None:
        shape = (fault.remaining, fault.status, fault.delay, fault.malformed)
        self.store.inject_fault(digest(fault.path), fault.path, shape)

    def start_request(self, path: str | None, clock: Clock) -> Fault | None:
        state = self.store.request_state(digest(path) if path is not None else "")
        clock.follow(state.clock_offset)
        self._local.claims_queued = state.claims_queued
        if state.fault is None or path is None:
            return None
        status, delay, malformed = state.fault
        return Fault(path, 0, status, delay, malformed)

    def queue_claims(self, kind: str, name: str, claims: dict[str, Any]) -> None:
        self.store.queue_claims(kind, name, json.dumps(claims))

    def take_claims(self, kind: str, name: str) -> dict[str, Any]:
        if not self.may_have_claims():  # none were queued as this request started
            return {}
        found = self.store.take_claims(kind, name)
        return {} if found is None else dict(json.loads(found))

    def may_have_claims(self) -> bool:
        return bool(getattr(self._local, "claims_queued", True))  # unknown: look

"""What the admin API changes in a running sandbox, kept in the process: the clock, injected
faults, claims queued for the next token, and the recent request log."""

from __future__ import annotations

import threading
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Fault:
    path: str
    remaining: int
    status: int | None = None  # answer with this status instead
    delay: float = 0.0  # seconds to wait before answering
    malformed: bool = False  # answer with a body that is not what the endpoint promises


@dataclass
class AdminState:
    faults: dict[str, Fault] = field(default_factory=dict)
    queued_claims: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)
    requests: deque[dict[str, Any]] = field(default_factory=lambda: deque(maxlen=1000))
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def inject(self, fault: Fault) -> None:
        """The next `fault.remaining` requests to `fault.path` meet the fault."""
        with self._lock:
            self.faults[fault.path] = fault

    def start_request(self, path: str | None, clock: Clock) -> Fault | None:
        """In a store worker, as a request starts: nothing to read in memory (the event loop
        takes this process's faults before the request is parsed)."""
        return None

    def take_fault(self, path: str) -> Fault | None:
        if not self.faults:  # the usual case, without taking the lock
            return None
        with self._lock:
            fault = self.faults.get(path)
            if fault is None:
                return None
            fault.remaining -= 1
            if fault.remaining <= 0:
                del self.faults[path]
            return fault

    def queue_claims(self, kind: str, name: str, claims: dict[str, Any]) -> None:
        with self._lock:
            self.queued_claims.setdefault((kind, name), {}).update(claims)

    def take_claims(self, kind: str, name: str) -> dict[str, Any]:
        with self._lock:
            return self.queued_claims.pop((kind, name), {})

    def may_have_claims(self) -> bool:
        """False only when no claims can be queued for anyone (a cheap test before taking)."""
        return bool(self.queued_claims)

    def log(self, method: str, path: str, status: int, at: float, seconds: float) -> None:
        self.requests.append(
            {
                "at": at,
                "method": method,
                "path": path,
                "status": status,
                "ms": round(seconds * 1000, 2),
            }
        )


class Clock:
    """The sandbox's notion of now, as seconds since the epoch, with an offset that the admin
    API (`POST /admin/clock`) and tests can move."""

    def __init__(self, offset: float = 0.0) -> None:
        self.offset = offset

    def follow(self, offset: float) -> None:
        """The offset that instances sharing a database agreed on; a clock in memory is its
        own authority and keeps its offset."""

    def now(self) -> float:
        return time.time() + self.offset

    def advance(self, seconds: float) -> None:
        self.offset += seconds

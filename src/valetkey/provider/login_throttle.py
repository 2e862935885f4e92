"""Login throttling: backoff per user and per client address after wrong passwords, and a
bounded number of password checks in flight (argon2 costs 19 MiB and ~20 ms each).

Without it, 800 wrong-password POSTs in flight queued 800 argon2 runs and delayed a real
login by 25 s. Now a user or an address with FREE_FAILURES wrong passwords in a row waits
1 s, then 2, 4 ... up to MAX_BACKOFF before its next check, and when MAX_IN_FLIGHT checks
are queued or running the next one is answered 429 with Retry-After at once.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Sequence
from dataclasses import dataclass

FREE_FAILURES = 5
MAX_BACKOFF = 60.0
MAX_IN_FLIGHT = 16
MAX_TRACKED = 10_000  # keys remembered; beyond that the oldest half is forgotten


class TooManyAttempts(Exception):
    """Refused before any password check; `retry_after` is in whole seconds."""

    def __init__(self, retry_after: float, why: str) -> None:
        super().__init__(why)
        self.retry_after = max(1, math.ceil(retry_after))


@dataclass
class _Failures:
    count: int
    locked_until: float


class LoginThrottle:
    def __init__(self) -> None:
        self._failures: dict[str, _Failures] = {}
        self._in_flight = 0
        self._lock = threading.Lock()

    def admit(self, keys: Sequence[str], now: float) -> None:
        """Take a place for one password check, or raise TooManyAttempts."""
        with self._lock:
            for key in keys:
                failures = self._failures.get(key)
                if failures is not None and failures.locked_until > now:
                    raise TooManyAttempts(
                        failures.locked_until - now, "too many wrong passwords; wait"
                    )
            if self._in_flight >= MAX_IN_FLIGHT:
                raise TooManyAttempts(1, "too many sign-ins are being checked")
            self._in_flight += 1

    def done(self, keys: Sequence[str], ok: bool, now: float) -> None:
        """Give the place back and count the outcome for each key."""
        with self._lock:
            self._in_flight -= 1
            for key in keys:
                if ok:
                    self._failures.pop(key, None)
                else:
                    self._failed(key, now)

    def _failed(self, key: str, now: float) -> None:
        failures = self._failures.pop(key, None) or _Failures(0, 0.0)
        failures.count += 1
        if failures.count >= FREE_FAILURES:
            backoff = min(2.0 ** (failures.count - FREE_FAILURES), MAX_BACKOFF)
            failures.locked_until = now + backoff
        if len(self._failures) >= MAX_TRACKED:
            for old in list(self._failures)[: MAX_TRACKED // 2]:
                del self._failures[old]
        self._failures[key] = failures  # re-inserted: the dict keeps the newest last

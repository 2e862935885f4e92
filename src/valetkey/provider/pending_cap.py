"""The cap on pending authorization requests (issue 15 M6: `/authorize` needs no
authentication, so what it stores is bounded), read without a `COUNT(*)` per request.

The store's row count is read now and then; between readings the cap is checked against an
upper bound: the count last read plus the requests this process stored since. Rows only
leave the table otherwise (finished, pruned), so in one process the bound never falls
below the truth and the cap holds exactly: when the bound reaches it, the rows are counted
again before anything more is stored. Instances sharing a PostgreSQL database do not see
each other's inserts in the bound, so it is also re-read at least every REFRESH_S seconds:
the cap stays a soft one there, as it was with a count per request (two writers could pass
it by a few), passed at most by what the other instances store in that time.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

REFRESH_S = 1.0  # the longest a count is trusted for, seconds


class PendingCap:
    def __init__(self, cap: int, count: Callable[[], int]) -> None:
        self.cap = cap
        self._count = count
        self._lock = threading.Lock()
        self._bound: int | None = None  # None: count before the next decision
        self._counted_at = 0.0

    def admit(self) -> bool:
        """Whether one more request may be stored; if so, it is counted as stored."""
        with self._lock:
            fresh = time.monotonic() - self._counted_at < REFRESH_S
            if self._bound is not None and fresh and self._bound < self.cap:
                self._bound += 1
                return True
        counted = self._count()  # outside the lock: the store's round trip
        with self._lock:
            self._counted_at = time.monotonic()
            self._bound = counted + (counted < self.cap)
            return counted < self.cap

    def forget(self) -> None:
        """Rows were deleted (pruned): count again before the next decision."""
        with self._lock:
            self._bound = None

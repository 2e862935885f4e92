"""The pending-request cap reads the row count rarely and still never lets one process pass
the cap (src/valetkey/provider/pending_cap.py)."""

from __future__ import annotations

import pytest

from valetkey.provider import pending_cap
from valetkey.provider.pending_cap import PendingCap


class Table:
    """Stands for auth_requests: its rows, and how often they were counted."""

    def __init__(self, rows: int = 0) -> None:
        self.rows = rows
        self.counts = 0

    def count(self) -> int:
        self.counts += 1
        return self.rows

    def store(self, cap: PendingCap) -> bool:
        admitted = cap.admit()
        self.rows += admitted
        return admitted


def test_one_count_admits_up_to_the_cap_and_no_further() -> None:
    table = Table(rows=2)
    cap = PendingCap(5, table.count)
    assert [table.store(cap) for _ in range(4)] == [True, True, True, False]
    assert table.rows == 5
    assert table.counts == 2  # once at the start, once when the bound reached the cap


def test_rows_that_left_are_found_by_the_recount_at_the_cap() -> None:
    table = Table()
    cap = PendingCap(3, table.count)
    assert [table.store(cap) for _ in range(3)] == [True, True, True]
    table.rows = 1  # two requests finished
    assert [table.store(cap) for _ in range(3)] == [True, True, False]
    assert table.counts == 3


def test_forget_counts_again_before_the_next_decision() -> None:
    table = Table(rows=3)
    cap = PendingCap(3, table.count)
    assert cap.admit() is False
    table.rows = 0  # pruned
    cap.forget()
    assert table.store(cap) is True
    assert table.counts == 2


def test_a_count_older_than_refresh_s_is_read_again(monkeypatch: pytest.MonkeyPatch) -> None:
    now = [100.0]
    monkeypatch.setattr(pending_cap.time, "monotonic", lambda: now[0])
    table = Table()
    cap = PendingCap(503, table.count)
    assert [table.store(cap) for _ in range(2)] == [True, True]
    table.rows += 500  # another instance stored these: 502 now
    now[0] += pending_cap.REFRESH_S / 2
    assert table.store(cap) is True  # the count is fresh: the bound (3) has room
    assert table.counts == 1
    table.rows -= 1  # one of them finished: 502 again
    now[0] += pending_cap.REFRESH_S
    assert [table.store(cap) for _ in range(2)] == [True, False]
    assert (table.rows, table.counts) == (503, 3)

"""Writes whose results nobody reads, sent to PostgreSQL together as one statement.

A request's last writes (the grant and tokens it issued, its flow records) change rows that
nothing in the request reads again. Inside a unit of work on PostgreSQL the store keeps
them back and sends them as one statement, each write a data-modifying `WITH` query of it
(PostgreSQL 15 documentation, §7.8.4), just before the next statement of the unit or at its
commit. Where they are the unit's only writes, that one statement is the whole transaction
(a single statement is atomic), with no BEGIN and no COMMIT: one round trip instead of
three or more. Every write still commits before the response leaves, or rolls back with
the rest of the unit.

The sub-statements of one statement all see the same snapshot, none sees the others'
changes, and the order in which they run is not defined (§7.8.4). So a group holds at most
one write to each table: then no write can depend on another's effect or order (a row's
serial id, an UPDATE of a row inserted beside it). Foreign keys are checked at the end of
the statement, so a grant and a token that names it may go together. A write that would
touch a table twice starts the next group; groups are sent in order. SQLite runs each
write when it is made: its statements cost microseconds and no round trip.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from valetkey.provider.store.driver import PARAMETER

_TARGET = re.compile(r"\s*(INSERT\s+INTO|UPDATE|DELETE\s+FROM)\s+(\w+)", re.IGNORECASE)


@dataclass(frozen=True)
class Write:
    """One write statement (`:name` parameters) and its values."""

    sql: str
    params: Mapping[str, Any]


@cache
def target(sql: str) -> str:
    """The table a write statement changes; anything else is a ValueError."""
    found = _TARGET.match(sql)
    if found is None:
        raise ValueError(f"not a write statement: {sql[:60]!r}")
    return found.group(2).lower()


@dataclass
class Group:
    """Writes that may go to the database as one statement, in the order they were made."""

    writes: list[Write] = field(default_factory=list)

    def accepts(self, write: Write) -> bool:
        table = target(write.sql)
        return all(target(held.sql) != table for held in self.writes)

    def statement(self) -> tuple[str, dict[str, Any]]:
        """The group as one statement, and its parameters (each write's renamed apart)."""
        params: dict[str, Any] = {}
        for index, write in enumerate(self.writes):
            params.update({f"{name}__{index}": value for name, value in write.params.items()})
        return combined(tuple(write.sql for write in self.writes)), params


def groups(writes: Sequence[Write]) -> list[Group]:
    """`writes` split, in order, into the fewest groups the rule above allows."""
    found = [Group()]
    for write in writes:
        if not found[-1].accepts(write):
            found.append(Group())
        found[-1].writes.append(write)
    return [group for group in found if group.writes]


@cache
def combined(statements: tuple[str, ...]) -> str:
    """`WITH w0 AS (s0), w1 AS (s1), ... sN`, each statement's parameters suffixed with its
    index (`:at` of the second is `:at__1`); one statement alone stays as it is."""
    renamed = [_suffixed(sql, index) for index, sql in enumerate(statements)]
    if len(renamed) == 1:
        return renamed[0]
    heads = ", ".join(f"w{index} AS ({sql})" for index, sql in enumerate(renamed[:-1]))
    return f"WITH {heads} {renamed[-1]}"


def _suffixed(sql: str, index: int) -> str:
    return PARAMETER.sub(lambda found: f":{found.group(1)}__{index}", sql)

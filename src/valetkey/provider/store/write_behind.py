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
one sub-statement per table: then no write can depend on another's effect or order (a row's
serial id, an UPDATE of a row inserted beside it). Rows inserted by the same one-row INSERT
are the exception: they become one multi-row INSERT (`INSERT ... VALUES (...), (...)`), one
sub-statement whose rows go in in the order they were made (the two tokens of a grant, a
request's flow events). Foreign keys are checked at the end of the statement, so a grant
and a token that names it may go together. A write that would touch a table twice in any
other way starts the next group; groups are sent in order. A table that a trigger changes
counts as written by the statement that fires it (`TRIGGERS`).

A write whose rowcount the request needs (claiming a code, moving a pending request) is sent
at once; when the writes held back before it fit in one group and touch none of its tables,
they go as the `WITH` queries of that statement (`folded`), one round trip instead of two.
Only an UPDATE that reads no table but its own is folded: it cannot see the held writes'
changes, and does not need to. (A DELETE is not: its foreign keys' cascades could reach rows
that a held INSERT adds in the same statement.)

SQLite runs each write when it is made: its statements cost microseconds and no round trip.
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


# tables a write also changes through a trigger (migration 0010: the clients table's version)
TRIGGERS: dict[str, tuple[str, ...]] = {"clients": ("server_state",)}

_ONE_ROW = re.compile(r"^\s*INSERT\s+INTO\s+\w+\s*\([^()]*\)\s*VALUES\s*(\([^()]*\))\s*$", re.I)
_UPDATE = re.compile(r"\s*UPDATE\s", re.I)
_READS = re.compile(r"\b(SELECT|WITH|JOIN|USING|RETURNING)\b|\bUPDATE\b.*\bFROM\b", re.I | re.S)


def tables(sql: str) -> tuple[str, ...]:
    """What a write statement changes: its table, and those its table's triggers change."""
    table = target(sql)
    return (table, *TRIGGERS.get(table, ()))


@cache
def _values(sql: str) -> str | None:
    """The row of a one-row INSERT of plain parameters (the tuple after VALUES), else None."""
    found = _ONE_ROW.match(sql)
    return None if found is None else found.group(1)


@cache
def _many_rows(sql: str, rows: int) -> str:
    """The one-row INSERT `sql` for `rows` rows, each row's parameters suffixed `__rN`."""
    row = _values(sql)
    assert row is not None
    head = sql[: sql.rindex(row)]
    return head + ", ".join(_renamed(row, f"__r{n}") for n in range(rows))


def _renamed(sql: str, suffix: str) -> str:
    return PARAMETER.sub(lambda found: f":{found.group(1)}{suffix}", sql)


@dataclass
class Group:
    """Writes that may go to the database as one statement, in the order they were made."""

    writes: list[Write] = field(default_factory=list)

    def accepts(self, write: Write) -> bool:
        touched = tables(write.sql)
        same = [held for held in self.writes if target(held.sql) == touched[0]]
        if same:  # only more rows of the same one-row INSERT
            return _values(write.sql) is not None and all(h.sql == write.sql for h in same)
        return self.tables().isdisjoint(touched)

    def tables(self) -> set[str]:
        """Every table the group's writes change, their triggers' included."""
        return {table for write in self.writes for table in tables(write.sql)}

    def parts(self) -> list[tuple[str, list[Mapping[str, Any]]]]:
        """One sub-statement per table, in the order of each table's first write: its SQL
        and the parameters of each of its rows."""
        found: dict[str, tuple[str, list[Mapping[str, Any]]]] = {}
        for write in self.writes:
            found.setdefault(target(write.sql), (write.sql, []))[1].append(write.params)
        return list(found.values())

    def statement(self) -> tuple[str, dict[str, Any]]:
        """The group as one statement, and its parameters (each sub-statement's, and each
        row's, renamed apart)."""
        texts, params = [], {}
        for index, (sql, rows) in enumerate(self.parts()):
            values = dict(rows[0])
            if len(rows) > 1:
                sql = _many_rows(sql, len(rows))
                values = {f"{k}__r{n}": v for n, row in enumerate(rows) for k, v in row.items()}
            texts.append(sql)
            params.update({f"{name}__{index}": value for name, value in values.items()})
        return combined(tuple(texts)), params


def groups(writes: Sequence[Write]) -> list[Group]:
    """`writes` split, in order, into the fewest groups the rules above allow."""
    found = [Group()]
    for write in writes:
        if not found[-1].accepts(write):
            found.append(Group())
        found[-1].writes.append(write)
    return [group for group in found if group.writes]


def folded(behind: Sequence[Write], write: Write) -> Group | None:
    """`write` with the held writes `behind` as its `WITH` queries, when it is an UPDATE that
    reads no table but its own and they make one group that touches none of its tables;
    else None. The statement's rowcount is `write`'s: it is the main query, written last."""
    if not _UPDATE.match(write.sql) or _READS.search(write.sql):
        return None
    grouped = groups(behind)
    if len(grouped) != 1 or not grouped[0].tables().isdisjoint(tables(write.sql)):
        return None
    return Group([*grouped[0].writes, write])


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
    return _renamed(sql, f"__{index}")

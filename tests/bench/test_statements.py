"""bench/provider/statements.py on a fresh PostgreSQL database: what one flow, one CC token
request and one refresh request send is the same every time and in every run, each HTTP
request writes in one transaction at most (BEGIN ... COMMIT, or one statement on its own),
the counts agree with the server's own counters, and its dump and pgbench script hold no
secret."""

from __future__ import annotations

import sys
from collections import Counter
from pathlib import Path

import pytest

from tests.support.postgres import fresh_database

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench" / "provider"))
import statements

pytestmark = [pytest.mark.postgres, pytest.mark.slow]
ITEMS = 3


@pytest.fixture(scope="module")
def runs() -> tuple[statements.Run, statements.Run]:
    with fresh_database() as first, fresh_database() as second:
        return (
            statements.measure(first, ITEMS, server_stats=True),
            statements.measure(second, ITEMS, server_stats=False),
        )


def _phase(run: statements.Run, name: str) -> statements.Phase:
    return next(p for p in run.phases if p.name == name)


def test_counts_are_whole_the_same_each_time_and_in_both_runs(
    runs: tuple[statements.Run, statements.Run],
) -> None:
    one, two = runs
    assert [p.name for p in one.phases] == ["flow", "token", "refresh"]
    for a, b in zip(one.phases, two.phases, strict=True):
        assert a.same_every_time, a.name
        assert b.same_every_time, b.name
        assert a.per_item == b.per_item, a.name
        assert a.statements == b.statements, a.name
        assert all(float(v).is_integer() for v in a.per_item.values()), a.name
        assert a.per_item["other"] == 0
        assert a.per_item["ROLLBACK"] == 0


def test_the_token_request_makes_exactly_one_write_transaction(
    runs: tuple[statements.Run, statements.Run],
) -> None:
    """Client credentials: the request's state, then its token and flow record written as
    one statement (atomic on its own: no BEGIN, no COMMIT). Refresh: the claim of the old
    refresh token needs its answer, so BEGIN, the claim, the rest, COMMIT."""
    token, refresh = _phase(runs[0], "token").per_item, _phase(runs[0], "refresh").per_item
    assert (token["round_trips"], token["write_transactions"]) == (2, 1)
    assert (token["BEGIN"], token["COMMIT"], token["autocommit_writes"]) == (0, 0, 1)
    assert refresh["write_transactions"] == 1
    assert (refresh["BEGIN"], refresh["COMMIT"], refresh["autocommit_writes"]) == (1, 1, 0)


def test_a_flow_writes_once_per_request_at_most(
    runs: tuple[statements.Run, statements.Run],
) -> None:
    flow = _phase(runs[0], "flow")
    sample, _ = runs[0].samples["flow"]
    commits = Counter(s.request for s in sample if s.kind == "COMMIT")
    assert max(commits.values()) == 1
    assert flow.per_item["write_transactions"] == len(commits) + flow.per_item["autocommit_writes"]
    assert {s.sql for s in sample} == set(flow.statements)
    assert "POST /token" in commits


def test_the_servers_counters_agree(runs: tuple[statements.Run, statements.Run]) -> None:
    """Every write valetkey sends changes one row: the server counts as many rows."""
    for phase in runs[0].phases:
        assert phase.server["tup_inserted"] == phase.per_item["inserts"], phase.name
        assert phase.server["tup_updated"] == phase.per_item["updates"], phase.name
        # the server counts every transaction, and also periodic ones and autovacuum's;
        # its reading may miss one of the phase's
        assert phase.server["xact_commit"] * ITEMS >= phase.per_item["transactions"] * ITEMS - 1


def test_the_pgbench_script_is_the_flow_and_holds_no_secret(
    runs: tuple[statements.Run, statements.Run],
) -> None:
    a, b = runs[0].samples["flow"]
    script = statements.pgbench_script(a, b, "one flow")
    lines = [line for line in script.splitlines() if not line.startswith(("--", "\\"))]
    assert [line.split(None, 1)[0].rstrip(";") for line in lines] == [s.sql.split()[0] for s in a]
    assert "%(" not in script
    dump = "\n".join(statements.dump(a, b))
    for secret in runs[0].secrets:
        assert secret not in script
        assert secret not in dump

"""Writes held back in a unit of work and sent together (store/write_behind.py): what goes
to PostgreSQL, statement by statement, and that the unit's meaning does not change."""

from __future__ import annotations

import time

import pytest

from valetkey.oauth.flow import FlowEvent
from valetkey.provider.store.driver import StoreError
from valetkey.provider.store.queries import SQL_INSERT_EVENT, SQL_INSERT_TOKEN, Store
from valetkey.provider.store.records import AuthRequest, FlowStart, FlowUpdate, Grant, Token
from valetkey.provider.store.write_behind import Write, combined, folded, groups, target


def test_combined_renames_each_statements_parameters_apart() -> None:
    sql = combined(("INSERT INTO a (x) VALUES (:x)", "UPDATE b SET y = :y WHERE x = :x"))
    assert sql == (
        "WITH w0 AS (INSERT INTO a (x) VALUES (:x__0)) UPDATE b SET y = :y__1 WHERE x = :x__1"
    )
    assert combined(("DELETE FROM a WHERE x = :x",)) == "DELETE FROM a WHERE x = :x__0"


def test_rows_of_one_insert_go_as_one_multi_row_insert_in_their_order() -> None:
    writes = [
        Write("INSERT INTO grants (id) VALUES (:id)", {"id": "g"}),
        Write("INSERT INTO tokens (id, kind) VALUES (:id, :kind)", {"id": "a", "kind": "access"}),
        Write("UPDATE flows SET at = :at WHERE id = :id", {"at": 1.0, "id": "f"}),
        Write("INSERT INTO tokens (id, kind) VALUES (:id, :kind)", {"id": "r", "kind": "refresh"}),
    ]
    (group,) = groups(writes)
    sql, params = group.statement()
    assert sql == (
        "WITH w0 AS (INSERT INTO grants (id) VALUES (:id__0)), "
        "w1 AS (INSERT INTO tokens (id, kind) VALUES (:id__r0__1, :kind__r0__1), "
        "(:id__r1__1, :kind__r1__1)) UPDATE flows SET at = :at__2 WHERE id = :id__2"
    )
    assert params == {
        "id__0": "g",
        "id__r0__1": "a",
        "kind__r0__1": "access",
        "id__r1__1": "r",
        "kind__r1__1": "refresh",
        "at__2": 1.0,
        "id__2": "f",
    }


def test_a_table_written_twice_otherwise_starts_the_next_group() -> None:
    writes = [
        Write("INSERT INTO tokens (id) VALUES (:id)", {"id": "a"}),
        Write("UPDATE flows SET at = :at WHERE id = :id", {"at": 1.0, "id": "f"}),
        Write("UPDATE flows SET at = :at WHERE id = :id", {"at": 2.0, "id": "f"}),
        Write("INSERT INTO tokens (id, kind) VALUES (:id, :kind)", {"id": "r", "kind": "x"}),
        Write("INSERT INTO server_state (name, value) VALUES (:n, :v)", {"n": "a", "v": "1"}),
        Write("UPDATE clients SET name = :name", {"name": "c"}),  # its trigger: server_state
    ]
    found = groups(writes)
    assert [[w.params.get("id", w.params.get("n")) for w in g.writes] for g in found] == [
        ["a", "f"],
        ["f", "r", "a"],
        [None],
    ]


def test_held_writes_ride_along_a_write_that_reads_only_its_own_table() -> None:
    behind = [
        Write("INSERT INTO login_sessions (id) VALUES (:id)", {"id": "s"}),
        Write("INSERT INTO flow_events (id) VALUES (:id)", {"id": "e"}),
    ]
    update = Write("UPDATE auth_requests SET b = :b WHERE id = :id", {"b": "n", "id": "q"})
    group = folded(behind, update)
    assert group is not None
    assert group.statement()[0] == (
        "WITH w0 AS (INSERT INTO login_sessions (id) VALUES (:id__0)), "
        "w1 AS (INSERT INTO flow_events (id) VALUES (:id__1)) "
        "UPDATE auth_requests SET b = :b__2 WHERE id = :id__2"
    )
    same_table = Write("UPDATE flow_events SET x = 1 WHERE id = :id", {"id": "e"})
    reads = Write("UPDATE codes SET x = 1 WHERE id IN (SELECT id FROM grants)", {})
    joins = Write("UPDATE codes SET x = 1 FROM grants WHERE grants.id = codes.grant_id", {})
    delete = Write("DELETE FROM codes WHERE id = :id", {"id": "c"})  # could cascade
    others = (same_table, reads, joins, delete)
    assert [folded(behind, w) for w in others] == [None, None, None, None]
    two_groups = [*behind, Write("UPDATE flow_events SET x = 1", {})]
    assert folded(two_groups, update) is None


def test_only_write_statements_can_be_held_back() -> None:
    assert target("  update Flows SET x = 1") == "flows"
    assert target("DELETE FROM codes WHERE x = 1") == "codes"
    with pytest.raises(ValueError, match="not a write statement"):
        target("SELECT 1")


def _token(token_id: str, grant_id: str | None = None) -> Token:
    now = time.time()
    return Token(token_id, "access", grant_id, "c1", None, "openid", now, now + 60, None, None)


@pytest.mark.postgres
def test_a_units_only_writes_go_as_one_statement_without_begin(
    pg_store: tuple[Store, list[str]],
) -> None:
    store, sent = pg_store
    grant = Grant("g1", "c1", None, "openid", None, time.time(), None)
    with store.transaction():
        store.issue(grant, [_token("a1", "g1")])
        assert sent == []  # held back until the unit ends
    assert sent == ["WITH w0 AS (INSERT INTO grants"]
    assert store.grant("g1") is not None
    assert store.token("a1") is not None


@pytest.mark.postgres
def test_held_writes_go_before_the_next_statement_which_sees_them(
    pg_store: tuple[Store, list[str]],
) -> None:
    store, sent = pg_store
    grant = Grant("g2", "c1", None, "openid", None, time.time(), None)
    with store.transaction():
        store.issue(grant, [_token("a2", "g2"), _token("r2", "g2")])
        found = store.token("a2")  # a read after the writes, in the same transaction
    assert found is not None
    assert found[0].grant_id == "g2"
    assert sent == ["BEGIN", "WITH w0 AS (INSERT INTO grants", "SELECT", "COMMIT"]


@pytest.mark.postgres
def test_held_writes_of_a_unit_that_fails_are_never_sent(
    pg_store: tuple[Store, list[str]],
) -> None:
    store, sent = pg_store

    def failing_unit() -> None:
        with store.transaction():
            store.issue(None, [_token("never")])
            raise RuntimeError("handler failed")

    with pytest.raises(RuntimeError, match="handler failed"):
        failing_unit()
    assert sent == []
    assert store.token("never") is None


@pytest.mark.postgres
def test_a_held_write_that_fails_rolls_back_the_whole_unit(
    pg_store: tuple[Store, list[str]],
) -> None:
    store, _ = pg_store
    store.issue(None, [_token("dup")])
    now = time.time()

    def unit_with_a_duplicate() -> None:
        with store.transaction():
            store.revoke_token("dup", now)  # an immediate write: the unit's transaction begins
            store.issue(None, [_token("dup")])  # a duplicate id, found at the commit

    with pytest.raises(StoreError, match="duplicate key"):
        unit_with_a_duplicate()
    found = store.token("dup")
    assert found is not None
    assert found[0].revoked_at is None
    assert store.client("c1") is not None  # and the connection works afterwards


def _event(flow_id: str, step: str, result: str = "pass", at: float = 0.0) -> FlowEvent:
    return FlowEvent(
        flow_id=flow_id,
        at=at,
        step=step,
        sender="browser",
        receiver="authorization_server",
        channel="front",
        summary=step,
        params={},
        carried_password=False,
        checks=[{"id": "AS-01", "result": result}],
    )


def test_a_flow_started_and_updated_in_one_batch_is_inserted_as_updated(store: Store) -> None:
    """A batch's records of one flow are folded into its row: the same row as writing
    them one by one, and the events in the order they were made."""
    with store.transaction():
        store.save_flow_records(
            [
                FlowStart("f1", "c1", 10.0),
                FlowUpdate(_event("f1", "authorize", "fail", at=11.0)),
                FlowUpdate(_event("f1", "login", at=12.0), user_id=None, outcome="failed"),
                FlowStart("f2", "c1", 13.0),
            ]
        )
    store.save_flow_records(
        [
            FlowUpdate(_event("f1", "consent", "fail", at=14.0)),
            FlowUpdate(_event("f1", "token_request", at=15.0), outcome="succeeded"),
            FlowUpdate(_event("f2", "authorize", at=16.0)),
        ]
    )
    one, two = store.flow("f1"), store.flow("f2")
    assert one is not None
    assert two is not None
    assert (one["started_at"], one["updated_at"], one["failed_checks"], one["outcome"]) == (
        10.0,
        15.0,
        2,
        "succeeded",
    )
    assert (two["updated_at"], two["failed_checks"], two["outcome"]) == (16.0, 0, "in_progress")
    steps = [event.step for event in store.flow_events("f1")]
    assert steps == ["authorize", "login", "consent", "token_request"]


def test_statement_texts_used_for_held_writes_are_plain_writes() -> None:
    assert target(SQL_INSERT_TOKEN) == "tokens"
    assert target(SQL_INSERT_EVENT) == "flow_events"


def _pending(request_id: str) -> AuthRequest:
    return AuthRequest(
        request_id, "old", "c1", "http://127.0.0.1/cb", "openid", None, None, None, None, None,
        None, "f-" + request_id, time.time() + 60,
    )  # fmt: skip


@pytest.mark.postgres
def test_held_writes_ride_along_the_next_write_whose_rowcount_is_needed(
    pg_store: tuple[Store, list[str]],
) -> None:
    store, sent = pg_store
    store.save_auth_request(_pending("q1"))
    sent.clear()
    with store.transaction():
        store.issue(None, [_token("t1"), _token("t2")])  # held back
        moved = store.rebind_auth_request("q1", "old", "new")  # needs its rowcount
        not_moved = store.rebind_auth_request("q1", "old", "newer")
    assert (moved, not_moved) == (True, False)
    assert sent == ["BEGIN", "WITH w0 AS (INSERT INTO tokens", "UPDATE auth_requests", "COMMIT"]
    assert store.token("t1") is not None
    assert store.token("t2") is not None
    found = store.auth_request("q1", time.time())
    assert found is not None
    assert found.browser_hash == "new"


@pytest.mark.postgres
def test_a_folded_statement_that_fails_rolls_back_all_of_the_unit(
    pg_store: tuple[Store, list[str]],
) -> None:
    store, _ = pg_store
    store.issue(None, [_token("dup2")])
    store.save_auth_request(_pending("q2"))

    def unit_with_a_duplicate() -> None:
        with store.transaction():
            store.issue(None, [_token("fresh"), _token("dup2")])  # held; one id is taken
            store.rebind_auth_request("q2", "old", "new")

    with pytest.raises(StoreError, match="duplicate key"):
        unit_with_a_duplicate()
    assert store.token("fresh") is None
    found = store.auth_request("q2", time.time())
    assert found is not None
    assert found.browser_hash == "old"

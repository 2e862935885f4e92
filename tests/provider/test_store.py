"""The store on SQLite and on PostgreSQL: migrations, single use under concurrency, revocation."""

from __future__ import annotations

import concurrent.futures
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from alembic.config import Config
from alembic.script import ScriptDirectory

from tests.support.old_database import database_at
from tests.support.postgres import fresh_database
from valetkey.oauth.client_metadata import client_metadata
from valetkey.oauth.flow import FlowEvent
from valetkey.provider.admin_state import Clock
from valetkey.provider.flows import FlowRecorder
from valetkey.provider.settings import build_settings
from valetkey.provider.store import queries, schema
from valetkey.provider.store.driver import StoreError
from valetkey.provider.store.engine import HEAD_REVISION, MIGRATIONS, current_revision, migrate
from valetkey.provider.store.open import StoreUnavailable, open_store
from valetkey.provider.store.queries import DuplicateError, Store
from valetkey.provider.store.records import (
    Client,
    Code,
    FlowStart,
    FlowUpdate,
    Grant,
    Resource,
    Token,
)


def test_head_revision_constant_is_alembic_head() -> None:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    assert ScriptDirectory.from_config(config).get_current_head() == HEAD_REVISION


def _client(store: Store, client_id: str = "c1") -> Client:
    metadata = client_metadata(
        client_id=client_id,
        redirect_uris=("http://127.0.0.1/cb",),
        scope="openid",
        grant_types=("authorization_code",),
    )
    client = Client.registered(metadata, "0" * 64)
    store.add_client(client, time.time())
    return client


def test_migrated_once(store: Store) -> None:
    assert current_revision(store.database) == HEAD_REVISION
    assert migrate(store.database) is False


def test_duplicate_user_and_client(store: Store) -> None:
    store.add_user("alice", "hash", {}, time.time())
    with pytest.raises(DuplicateError, match="'alice' already exists"):
        store.add_user("alice", "hash", {}, time.time())
    _client(store)
    with pytest.raises(DuplicateError, match="'c1' already exists"):
        _client(store)


def test_code_claimed_by_exactly_one_of_fifty(store: Store) -> None:
    user = store.add_user("bob", "hash", {}, time.time())
    _client(store)
    code = Code(
        "h" * 64,
        "c1",
        user.id,
        "http://127.0.0.1/cb",
        "openid",
        None,
        None,
        None,
        time.time(),
        "flow",
        time.time() + 60,
        None,
        None,
    )
    with store.engine.begin() as conn:
        from valetkey.provider.store import schema

        conn.execute(schema.codes.insert().values(**vars(code)))
    with concurrent.futures.ThreadPoolExecutor(10) as pool:
        wins = list(
            pool.map(lambda i: store.claim_code(code.code_hash, time.time(), f"g{i}"), range(50))
        )
    assert wins.count(True) == 1


def test_refresh_claimed_once_and_grant_revocation(store: Store) -> None:
    _client(store)
    now = time.time()
    grant = Grant("g1", "c1", None, "openid", None, now, None)
    refresh = Token("r1", "refresh", "g1", "c1", None, "openid", now, now + 60, None, None)
    access = Token("a1", "access", "g1", "c1", None, "openid", now, now + 60, None, None)
    store.issue(grant, [refresh, access])
    with concurrent.futures.ThreadPoolExecutor(10) as pool:
        wins = list(pool.map(lambda _: store.claim_refresh_token("r1", time.time()), range(50)))
    assert wins.count(True) == 1
    assert store.revoke_grant("g1", time.time()) == 1
    found = store.token("a1")
    assert found is not None
    assert found[0].revoked_at is not None
    assert found[1] is not None


def test_remove_client_revokes_its_tokens(store: Store) -> None:
    _client(store, "gone")
    now = time.time()
    store.issue(None, [Token("t1", "access", None, "gone", None, "x", now, now + 60, None, None)])
    assert store.remove_client("gone", now) is True
    assert store.client("gone") is None
    found = store.token("t1")
    assert found is not None
    assert found[0].revoked_at == pytest.approx(now)
    assert store.remove_client("gone", now) is False


def test_unreachable_database_is_a_clear_error() -> None:
    settings = build_settings({"db": "postgresql://127.0.0.1:1/none"}, environ={})
    with pytest.raises(
        StoreUnavailable,
        match=r"cannot open the database postgresql://127\.0\.0\.1:1/none: connection failed",
    ):
        open_store(settings)


def test_prune_expired_keeps_a_day_of_history(store: Store) -> None:
    _client(store, "p1")
    now = time.time()
    old = Token(
        "old", "access", None, "p1", None, "x", now - 3 * 86400, now - 2 * 86400, None, None
    )
    recent = Token("recent", "access", None, "p1", None, "x", now - 3600, now - 60, None, None)
    live = Token("live", "access", None, "p1", None, "x", now, now + 300, None, None)
    store.issue(None, [old, recent, live])
    assert store.prune_expired(now) == 1
    assert store.token("old") is None
    assert store.token("recent") is not None
    assert store.token("live") is not None


def test_client_change_by_another_connection_shows_at_once(store: Store) -> None:
    """The parsed client is reused only while its row is unchanged: an update made through
    another connection (another process, the admin CLI) is seen by the next lookup."""
    _client(store, "c-cache")
    first = store.client("c-cache")
    assert first is not None
    assert store.client("c-cache") is first  # same row: the parsed record is reused
    with store.engine.begin() as conn:
        conn.exec_driver_sql(
            "UPDATE clients SET scopes = 'openid email' WHERE client_id = 'c-cache'"
        )
    changed = store.client("c-cache")
    assert changed is not None
    assert changed.scopes == frozenset({"openid", "email"})
    with store.engine.begin() as conn:
        conn.exec_driver_sql("DELETE FROM clients WHERE client_id = 'c-cache'")
    assert store.client("c-cache") is None


def _event(flow_id: str, step: str, result: str = "pass") -> FlowEvent:
    checks = [{"id": "AS-01", "clause": "x", "title": "t", "result": result, "detail": ""}]
    return FlowEvent(
        flow_id,
        time.time(),
        step,
        "browser",
        "authorization_server",
        "front",
        "s",
        {"client_id": "c1"},
        checks,
        False,
    )


def test_flow_records_in_one_batch_are_stored_at_its_end(store: Store) -> None:
    recorder = FlowRecorder(store, Clock(), retention=100, days=7)
    with recorder.batch():
        flow_id = recorder.start("c1")
        recorder.record(flow_id, "authorize", ("browser", "authorization_server", "front"), "s")
        assert store.flow(flow_id) is None  # nothing written yet
        store.save_flow_records([])  # an empty write is a no-op
    row = store.flow(flow_id)
    assert row is not None
    assert [e.step for e in store.flow_events(flow_id)] == ["authorize"]
    with recorder.batch():
        recorder.record(
            flow_id,
            "login",
            ("browser", "authorization_server", "front"),
            "s",
            outcome="failed",
            user_id=None,
        )
    row = store.flow(flow_id)
    assert row is not None
    assert row["outcome"] == "failed"
    assert [e.step for e in store.flow_events(flow_id)] == ["authorize", "login"]


def test_flow_batch_left_by_an_error_writes_nothing(store: Store) -> None:
    recorder = FlowRecorder(store, Clock(), retention=100, days=7)
    started: list[str] = []

    def failing_handler() -> None:
        with recorder.batch():
            started.append(recorder.start("c1"))
            raise RuntimeError("handler failed")

    with pytest.raises(RuntimeError, match="handler failed"):
        failing_handler()
    assert store.flow(started[0]) is None
    outside = recorder.start("c1")  # no batch open: written at once
    assert store.flow(outside) is not None


def test_flow_update_counts_failed_checks_and_keeps_outcome(store: Store) -> None:
    store.save_flow_records([FlowStart("f1", "c1", time.time())])
    store.save_flow_records(
        [
            FlowUpdate(_event("f1", "authorize", "fail")),
            FlowUpdate(_event("f1", "login"), user_id=7),
            FlowUpdate(_event("f1", "token_request", "fail"), outcome="failed"),
            FlowUpdate(_event("f1", "token_response")),
        ]
    )
    row = store.flow("f1")
    assert row is not None
    assert (row["failed_checks"], row["outcome"], row["user_id"]) == (2, "failed", 7)


@pytest.mark.parametrize(
    ("table", "columns", "unread"),
    [
        (schema.users, queries.USER_COLUMNS, {"created_at"}),
        (schema.clients, queries.CLIENT_COLUMNS, {"created_at"}),
        (schema.auth_requests, queries.AUTH_REQUEST_COLUMNS, set()),
        (schema.codes, queries.CODE_COLUMNS, set()),
        (schema.grants, queries.GRANT_COLUMNS, set()),
        (schema.tokens, queries.TOKEN_COLUMNS, set()),
        (schema.resources, queries.RESOURCE_COLUMNS, {"created_at"}),
        (schema.flows, queries.FLOW_COLUMNS, set()),
        (schema.flow_events, queries.EVENT_COLUMNS, {"id"}),
    ],
)
def test_query_columns_are_the_schema_columns(
    table: Any, columns: tuple[str, ...], unread: set[str]
) -> None:
    """The plain-SQL column lists name exactly the columns the migrations create (less the
    ones no record reads: creation times, the events' row id)."""
    assert len(set(columns)) == len(columns)
    assert set(columns) == {c.name for c in table.columns} - unread


def test_a_started_sandbox_has_not_imported_sqlalchemy(tmp_path: Path) -> None:
    """With the schema at head, opening the store, loading the provider and building the app
    import neither SQLAlchemy nor Alembic (they are for migrations): start-up and memory."""
    db = f"sqlite:///{tmp_path / 'db.sqlite'}"
    open_store(build_settings({"db": db}, environ={})).close()  # migrates, in this process
    program = (
        "import sys\n"
        "from valetkey.provider.settings import build_settings\n"
        "from valetkey.provider.store.open import open_store\n"
        "from valetkey.provider.core import Provider\n"
        "from valetkey.provider.app import create_app\n"
        f"settings = build_settings({{'db': {db!r}}}, environ={{}})\n"
        "provider = Provider(settings, open_store(settings))\n"
        "create_app(provider)\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('sqlalchemy', 'alembic')))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", program], capture_output=True, text=True, check=True
    )
    assert done.stdout.strip() == "[]"


def test_a_failed_write_leaves_nothing_of_its_transaction(store: Store) -> None:
    """issue() writes the grant and its tokens together: when a token row fails (here a
    duplicate id), the grant written before it in the same transaction is not kept."""
    _client(store)
    now = time.time()
    store.issue(
        None, [Token("dup", "access", None, "c1", None, "openid", now, now + 60, None, None)]
    )
    grant = Grant("g-rolled-back", "c1", None, "openid", None, now, None)
    again = Token("dup", "access", "g-rolled-back", "c1", None, "openid", now, now + 60, None, None)
    with pytest.raises(StoreError):
        store.issue(grant, [again])
    assert store.grant("g-rolled-back") is None
    assert store.client("c1") is not None  # the connection is usable afterwards


# -- resources (RFC 8707) ---------------------------------------------------------------------


def test_resources_add_read_remove(store: Store) -> None:
    mcp = Resource("http://127.0.0.1:8790/mcp", "MCP", frozenset({"photos.read", "photos.print"}))
    store.add_resource(mcp, time.time())
    with pytest.raises(DuplicateError, match="is registered already"):
        store.add_resource(mcp, time.time())
    assert store.resource(mcp.uri) == mcp
    assert store.resource(mcp.uri + "/") is None
    assert store.resource("http://127.0.0.1:8790/mcp\x00") is None  # NUL: no match, no error
    assert store.resources() == [mcp]
    assert store.remove_resource(mcp.uri) is True
    assert store.remove_resource(mcp.uri) is False
    assert store.resources() == []


def test_dpop_proof_recorded_once_and_pruned_when_expired(store: Store) -> None:
    now = time.time()
    assert store.first_proof_use("a" * 64, now + 120) is True
    assert store.first_proof_use("a" * 64, now + 120) is False  # RFC 9449 §11.1: a replay
    assert store.first_proof_use("b" * 64, now - 1) is True
    store.prune_expired(now)
    assert store.first_proof_use("b" * 64, now + 120) is True  # its row was pruned
    assert store.first_proof_use("a" * 64, now + 120) is False  # not yet expired: kept


def test_clock_offset_advances_from_zero(store: Store) -> None:
    assert store.clock_offset() == 0.0
    assert store.advance_clock(61) == 61.0
    assert store.advance_clock(0.5) == 61.5
    assert store.clock_offset() == 61.5


def _at_0004(url: str) -> None:
    """A database as valetkey left it before revision 0005, with a code and a token in it."""
    database_at(
        url,
        "0004",
        "INSERT INTO codes (code_hash, client_id, user_id, redirect_uri, scope, auth_time,"
        " flow_id, expires_at) VALUES ('h', 'c1', 1, 'http://127.0.0.1/cb', 'openid', 0,"
        " 'f', 9e12)",
        [{}],
    )
    database_at(
        url,
        "0004",
        "INSERT INTO tokens (id, kind, client_id, scope, created_at, expires_at)"
        " VALUES ('t', 'access', 'c1', 'openid', 0, 9e12)",
        [{}],
    )


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_at_0004(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'old.db'}"
        _at_0004(url)
        yield url
        return
    with fresh_database() as url:
        _at_0004(url)
        yield url


def test_migration_0005_gives_old_rows_no_resources(database_at_0004: str) -> None:
    """Codes and tokens from before resource indicators named none: the default audience."""
    store = open_store(build_settings({"db": database_at_0004}, environ={}))
    try:
        assert current_revision(store.database) == HEAD_REVISION
        code = store.code("h")
        found = store.token("t")
        assert code is not None
        assert found is not None
        assert (code.resources, found[0].resources) == ("", "")
        assert store.resources() == []
    finally:
        store.close()

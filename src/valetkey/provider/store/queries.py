"""Every query the provider runs, as methods of `Store`; one short transaction each.

The queries are plain SQL that SQLite and PostgreSQL both run, executed on the DB-API
driver (`driver.py`): SQLAlchemy's execution path cost several times the query itself, and
importing it was most of the start-up. The tables are defined once, in `schema.py`, for
Alembic; a test checks that the column lists here match them.

Single use is decided by the database, not by a read followed by a write: a code or refresh
token is claimed with `UPDATE ... WHERE used_at IS NULL`, and only the caller whose update
changed a row wins (RFC 6749 §4.1.2, §10.5; RFC 9700 §4.14). That holds across threads,
processes and instances that share the database.
"""

from __future__ import annotations

import dataclasses
import json
import secrets
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from functools import cached_property
from typing import TYPE_CHECKING, Any

from valetkey.oauth.flow import FlowEvent
from valetkey.provider.store.driver import Database, StoreError
from valetkey.provider.store.records import (
    AuthRequest,
    Client,
    Code,
    Consent,
    DeviceCode,
    FlowStart,
    FlowUpdate,
    Grant,
    LoginSession,
    Resource,
    SharedRequestState,
    Token,
    User,
)
from valetkey.provider.store.write_behind import Group, Write, folded, groups

if TYPE_CHECKING:
    from sqlalchemy import Engine


class DuplicateError(ValueError):
    """A user or client with that name already exists."""


def _names(record: type[Any]) -> tuple[str, ...]:
    return tuple(f.name for f in dataclasses.fields(record))


# column lists, in the order of the records they fill (checked against schema.py by a test)
USER_COLUMNS = ("id", "sub", "username", "password_hash", "claims")
CLIENT_COLUMNS = (
    "client_id",
    "secret_hash",
    "name",
    "redirect_uris",
    "post_logout_redirect_uris",
    "scopes",
    "grant_types",
    "id_token_alg",
    "token_endpoint_auth_method",
    "response_types",
    "application_type",
    "origin",
)
AUTH_REQUEST_COLUMNS = _names(AuthRequest)
DEVICE_COLUMNS = _names(DeviceCode)
CODE_COLUMNS = _names(Code)
GRANT_COLUMNS = _names(Grant)
TOKEN_COLUMNS = _names(Token)
FLOW_COLUMNS = (
    "id",
    "client_id",
    "user_id",
    "started_at",
    "updated_at",
    "outcome",
    "failed_checks",
)
EVENT_COLUMNS = _names(FlowEvent)
RESOURCE_COLUMNS = ("uri", "name", "scopes", "client_id")
MAX_CACHED_CLIENTS = 1000


def _select(columns: Sequence[str], rest: str, table: str = "") -> str:
    prefix = f"{table}." if table else ""
    return f"SELECT {', '.join(prefix + c for c in columns)} {rest}"


def _insert(table: str, columns: Sequence[str]) -> str:
    values = ", ".join(f":{c}" for c in columns)
    return f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({values})"  # noqa: S608 (constants)


SQL_USER_BY_NAME = _select(USER_COLUMNS, "FROM users WHERE username = :username")
SQL_USER_BY_ID = _select(USER_COLUMNS, "FROM users WHERE id = :user_id")
SQL_CLIENT = _select(CLIENT_COLUMNS, "FROM clients WHERE client_id = :client_id")
SQL_RESOURCE = _select(RESOURCE_COLUMNS, "FROM resources WHERE uri = :uri")
SQL_SESSION = (
    "SELECT user_id, auth_time, expires_at FROM login_sessions"
    " WHERE id_hash = :id_hash AND expires_at > :now"
)
SQL_CONSENT = "SELECT scope FROM consents WHERE user_id = :user_id AND client_id = :client_id"
SQL_AUTH_REQUEST = _select(
    AUTH_REQUEST_COLUMNS, "FROM auth_requests WHERE id = :request_id AND expires_at > :now"
)
# the user comes along with a code or a token: the request reads it next (`_Unit.users`)
USER_ALONG = "".join(f", users.{column}" for column in USER_COLUMNS)
SQL_CODE = _select(
    CODE_COLUMNS,
    f"{USER_ALONG} FROM codes LEFT JOIN users ON users.id = codes.user_id"
    " WHERE codes.code_hash = :code_hash",
    "codes",
)
SQL_GRANT = _select(GRANT_COLUMNS, "FROM grants WHERE id = :grant_id")
SQL_TOKEN = _select(
    TOKEN_COLUMNS,
    f", grants.revoked_at{USER_ALONG} FROM tokens"
    " LEFT JOIN grants ON grants.id = tokens.grant_id"
    " LEFT JOIN users ON users.id = tokens.user_id WHERE tokens.id = :token_id",
    "tokens",
)
SQL_CLAIM_CODE = (
    "UPDATE codes SET used_at = :now, grant_id = :grant_id"
    " WHERE code_hash = :code_hash AND used_at IS NULL"
)
SQL_CLAIM_REFRESH = (
    "UPDATE tokens SET used_at = :now"
    " WHERE id = :token_id AND used_at IS NULL AND revoked_at IS NULL"
)
SQL_INSERT_TOKEN = _insert("tokens", TOKEN_COLUMNS)
SQL_INSERT_GRANT = _insert("grants", GRANT_COLUMNS)
SQL_INSERT_CODE = _insert("codes", CODE_COLUMNS)
SQL_INSERT_AUTH_REQUEST = _insert("auth_requests", AUTH_REQUEST_COLUMNS)
SQL_INSERT_SESSION = _insert("login_sessions", ("id_hash", "user_id", "auth_time", "expires_at"))
SQL_INSERT_FLOW = _insert("flows", FLOW_COLUMNS)
SQL_INSERT_EVENT = _insert("flow_events", EVENT_COLUMNS)
SQL_UPDATE_FLOW = (
    "UPDATE flows SET updated_at = :at, failed_checks = failed_checks + :failed,"
    " outcome = COALESCE(CAST(:outcome AS VARCHAR(16)), outcome),"
    " user_id = COALESCE(CAST(:user_id AS INTEGER), user_id)"
    " WHERE id = :flow_id"
)
SQL_FLOWS = (
    _select(FLOW_COLUMNS, ", users.username FROM flows", "flows")
    + " LEFT JOIN users ON users.id = flows.user_id"
)
SQL_USER_HIGH_WATER = "SELECT value FROM server_state WHERE name = 'user_id_high_water'"
SQL_SET_USER_HIGH_WATER = (
    "INSERT INTO server_state (name, value) VALUES ('user_id_high_water', :value)"
    " ON CONFLICT (name) DO UPDATE SET value = excluded.value"
)
SQL_PRUNE = (
    "DELETE FROM auth_requests WHERE expires_at < :now",
    "DELETE FROM codes WHERE expires_at < :before",
    "DELETE FROM device_codes WHERE expires_at < :before",
    "DELETE FROM login_sessions WHERE expires_at < :now",
    "DELETE FROM tokens WHERE expires_at < :before",
    "DELETE FROM dpop_proofs WHERE expires_at < :now",  # by the minute: a cheap range scan
    "DELETE FROM injected_faults WHERE remaining <= 0",
)
SQL_FIRST_PROOF = (
    "INSERT INTO dpop_proofs (jti_hash, expires_at) VALUES (:jti_hash, :expires_at)"
    " ON CONFLICT (jti_hash) DO NOTHING"
)
SQL_CLOCK_OFFSET = "SELECT value FROM server_state WHERE name = 'clock_offset'"
SQL_ADVANCE_CLOCK = (
    "INSERT INTO server_state (name, value) VALUES ('clock_offset', CAST(:seconds AS TEXT))"
    " ON CONFLICT (name) DO UPDATE SET value ="
    " CAST(CAST(server_state.value AS DOUBLE PRECISION) + :seconds AS TEXT)"
    " RETURNING value"
)
SQL_QUEUE_CLAIMS = (  # PostgreSQL only (the shared path): later claims win, as in memory
    "INSERT INTO queued_claims (kind, name, claims) VALUES (:kind, :name, :claims)"
    " ON CONFLICT (kind, name) DO UPDATE SET claims ="
    " CAST(CAST(queued_claims.claims AS JSONB) || CAST(excluded.claims AS JSONB) AS TEXT)"
)
SQL_REQUEST_STATE = (  # PostgreSQL only (the shared path): one statement as a request starts
    "WITH fault AS (UPDATE injected_faults SET remaining = remaining - 1"
    " WHERE path_hash = :path_hash AND remaining > 0 RETURNING status, delay, malformed)"
    " SELECT (SELECT value FROM server_state WHERE name = 'clock_offset'),"
    " EXISTS (SELECT 1 FROM queued_claims), fault.status, fault.delay, fault.malformed,"
    " (SELECT value FROM server_state WHERE name = 'clients_version')"
    " FROM (SELECT 1) AS one LEFT JOIN fault ON TRUE"
)
SQL_INJECT_FAULT = (
    "INSERT INTO injected_faults (path_hash, path, remaining, status, delay, malformed)"
    " VALUES (:path_hash, :path, :remaining, :status, :delay, :malformed)"
    " ON CONFLICT (path_hash) DO UPDATE SET remaining = excluded.remaining,"
    " status = excluded.status, delay = excluded.delay, malformed = excluded.malformed"
)
SQL_TAKE_CLAIMS = "DELETE FROM queued_claims WHERE kind = :kind AND name = :name RETURNING claims"
# the grants a revocation covers, by a condition on the grants table
GRANTS_OF_USER = "user_id = :user_id"
GRANTS_OF_CLIENT = "client_id = :client_id"
GRANTS_OF_USER_AND_CLIENT = "user_id = :user_id AND client_id = :client_id"
GRANT_BY_ID = "id = :grant_id"


def _revocation(where: str) -> tuple[str, str, str]:
    """Count, revoke, and revoke the tokens of, the grants matching `where`: a condition of
    this module (GRANTS_*), never a value; values are bound parameters."""
    grants = f"FROM grants WHERE {where}"
    return (
        f"SELECT count(*) {grants}",
        f"UPDATE grants SET revoked_at = :now WHERE {where} AND revoked_at IS NULL",  # noqa: S608
        "UPDATE tokens SET revoked_at = :now WHERE revoked_at IS NULL"  # noqa: S608
        f" AND grant_id IN (SELECT id {grants})",
    )


def _has_nul(params: Mapping[str, Any]) -> bool:
    """A NUL in a looked-up value: nothing can match it (PostgreSQL's text cannot hold one,
    and it would be an error there, not an answer), so both stores find nothing."""
    return any(isinstance(value, str) and "\x00" in value for value in params.values())


def _user(row: Sequence[Any]) -> User:
    user_id, sub, username, password_hash, claims = row
    return User(user_id, sub, username, password_hash, json.loads(claims))


def _client(row: Sequence[Any]) -> Client:
    client_id, secret_hash, name, redirect_uris, post_logout, scopes, grant_types, alg = row[:8]
    auth_method, response_types, application_type, origin = row[8:]
    return Client(
        client_id=client_id,
        secret_hash=secret_hash,
        name=name,
        redirect_uris=tuple(json.loads(redirect_uris)),
        post_logout_redirect_uris=tuple(json.loads(post_logout)),
        scopes=frozenset(scopes.split()),
        grant_types=frozenset(json.loads(grant_types)),
        id_token_signed_response_alg=alg,
        token_endpoint_auth_method=auth_method,
        response_types=frozenset(json.loads(response_types)),
        public=secret_hash is None,
        application_type=application_type,
        origin=origin,
    )


def _resource(row: Sequence[Any]) -> Resource:
    uri, name, scopes, client_id = row
    return Resource(uri, name, frozenset(scopes.split()), client_id)


def _client_values(client: Client, now: float) -> dict[str, Any]:
    return {
        "client_id": client.client_id,
        "secret_hash": client.secret_hash,
        "name": client.name,
        "redirect_uris": json.dumps(list(client.redirect_uris)),
        "post_logout_redirect_uris": json.dumps(list(client.post_logout_redirect_uris)),
        "scopes": " ".join(sorted(client.scopes)),
        "grant_types": json.dumps(sorted(client.grant_types)),
        "id_token_alg": client.id_token_signed_response_alg,
        "token_endpoint_auth_method": client.token_endpoint_auth_method,
        "response_types": json.dumps(sorted(client.response_types)),
        "application_type": client.application_type,
        "origin": client.origin,
        "created_at": now,
    }


def _fields(record: object) -> dict[str, Any]:
    return dict(vars(record))


def _event_row(event: FlowEvent) -> dict[str, Any]:
    row = _fields(event)
    row["params"] = json.dumps(event.params, sort_keys=True)
    row["checks"] = json.dumps(event.checks)
    return row


def _flow_writes(records: Sequence[FlowStart | FlowUpdate]) -> list[Write]:
    """The writes of a batch of flow records: an INSERT for each new flow, with what its
    events in the batch changed already applied; one UPDATE for each other flow with
    events, summing theirs (as applying them in turn would); the events in order."""
    started: dict[str, dict[str, Any]] = {}
    changed: dict[str, dict[str, Any]] = {}
    events: list[Write] = []
    for record in records:
        if isinstance(record, FlowStart):
            started[record.flow_id] = {
                "id": record.flow_id,
                "client_id": record.client_id,
                "user_id": None,
                "started_at": record.at,
                "updated_at": record.at,
                "outcome": "in_progress",
                "failed_checks": 0,
            }
            continue
        events.append(Write(SQL_INSERT_EVENT, _event_row(record.event)))
        flow_id = record.event.flow_id
        if flow_id in started:
            _apply_update(started[flow_id], record, "updated_at", "failed_checks")
        else:
            summary = changed.setdefault(
                flow_id,
                {"flow_id": flow_id, "at": 0.0, "failed": 0, "outcome": None, "user_id": None},
            )
            _apply_update(summary, record, "at", "failed")
    return [
        *(Write(SQL_INSERT_FLOW, row) for row in started.values()),
        *events,
        *(Write(SQL_UPDATE_FLOW, summary) for summary in changed.values()),
    ]


def _apply_update(row: dict[str, Any], update: FlowUpdate, at: str, failed: str) -> None:
    """What SQL_UPDATE_FLOW does to a flow's row, done to `row` in memory."""
    row[at] = update.event.at
    row[failed] += sum(1 for check in update.event.checks if check.get("result") == "fail")
    if update.outcome is not None:
        row["outcome"] = update.outcome
    if update.user_id is not None:
        row["user_id"] = update.user_id


def _flow_dict(row: Sequence[Any]) -> dict[str, Any]:
    return dict(zip((*FLOW_COLUMNS, "username"), row, strict=True))


@dataclasses.dataclass
class _Unit:
    """The open unit of work of one thread: its cursor once the first statement ran."""

    cursor: Any = None
    failed: bool = False
    behind: list[Write] = dataclasses.field(default_factory=list)  # see write_behind.py
    # users read along with a code or a token, by id: `user_by_id` answers from here until
    # the unit writes anything (a request reads a code's or a token's user right after it)
    users: dict[int, User] = dataclasses.field(default_factory=dict)


class UnitOfWork:
    """`Store.transaction()`'s block (a plain context manager: it runs on every request)."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.unit: _Unit | None = None  # None: inside another unit, which commits

    def __enter__(self) -> None:
        local = self.store._local
        if getattr(local, "unit", None) is None:
            self.unit = local.unit = _Unit()

    def __exit__(self, kind: type[BaseException] | None, exc: object, tb: object) -> None:
        unit = self.unit
        if unit is None:
            return
        try:
            if kind is None and unit.failed:  # a statement failed and the caller went on
                raise StoreError("a statement of this unit of work failed")
            if kind is None and unit.behind:
                self._send_behind(unit)
            if unit.cursor is not None:
                self.store._finish(commit=kind is None)
        except BaseException:
            if kind is None and unit.cursor is not None:  # keep nothing: roll back
                self.store._finish(commit=False)
            raise
        finally:
            self.store._local.unit = None
            self.store._local.clients_version = None  # known for one request only

    def _send_behind(self, unit: _Unit) -> None:
        """The writes held back: with the unit's transaction if it began, else as one
        statement on their own when they fit in one (atomic without BEGIN and COMMIT)."""
        grouped = groups(unit.behind)
        if unit.cursor is None and len(grouped) == 1:
            unit.behind = []
            self.store._local.unit = None  # the unit is over: this statement is all of it
            self.store._send_apart(grouped)
        else:
            with self.store._cursor():  # the unit's cursor sends what was held back first
                pass


class Store:
    """Queries over one database. Each thread keeps its own open connection: opening one
    for every query cost more than the query itself."""

    def __init__(self, database: Database) -> None:
        self.database = database
        self._local = threading.local()
        self._prepared: dict[str, str] = {}
        # parsed clients by id, with the row they were parsed from: reused while it matches
        self._clients: dict[str, tuple[tuple[Any, ...], Client, str | None]] = {}

    @cached_property
    def engine(self) -> Engine:
        """A SQLAlchemy engine on the same database, for looking under the store (tests,
        migrations); the store itself never uses it."""
        from valetkey.provider.store.engine import open_engine

        return open_engine(self.database)

    # -- connections and transactions ---------------------------------------------------------

    def _connection(self) -> Any:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = self.database.connect()
            self._local.conn = conn
        return conn

    def _cursor_of(self, conn: Any) -> Any:
        """This thread's one cursor on `conn`, made once and reused by every statement (a
        new cursor per statement cost psycopg more than a third of a short SELECT). Each
        statement's rows are fetched before the next one runs, and a unit of work runs its
        statements in turn on the same cursor, so one is enough."""
        kept = getattr(self._local, "cursor", None)
        if kept is None or kept[0] is not conn:
            kept = self._local.cursor = (conn, conn.cursor())
        return kept[1]

    def transaction(self) -> UnitOfWork:
        """One unit of work: every write made inside (from any layer) goes into a single
        transaction, begun lazily at the first write and committed when the block ends
        normally; an exception rolls all of it back. Reads inside see the writes made before
        them. The app opens one around each request, so a request writes at most once."""
        return UnitOfWork(self)

    def _finish(self, *, commit: bool) -> None:
        """End the unit's transaction; its cursor stays open for the next (`_cursor_of`)."""
        conn = getattr(self._local, "conn", None)
        if conn is None:  # the connection was lost (and dropped) inside the unit
            return
        try:
            if commit:
                conn.commit()
            else:
                conn.rollback()
        except self.database.error as exc:
            if commit:
                raise self._store_error(conn, exc) from exc
            self._local.conn = None  # a rollback that fails: the connection is unusable

    def _store_error(self, conn: Any, exc: Exception) -> StoreError:
        gone = self.database.is_disconnect(conn)
        if gone:  # the server went away: reconnect next time
            self._local.conn = None
        else:
            conn.rollback()
        return StoreError(str(exc).strip() or type(exc).__name__, disconnected=gone)

    @contextmanager
    def _cursor(self, transaction: bool = True, read: bool = False) -> Iterator[Any]:
        """A cursor in a transaction of its own, committed at the end (rolled back on an
        error); driver errors come out as StoreError. PostgreSQL connections are in
        autocommit mode, so a single statement (`transaction=False`) costs one round trip
        and a block of several begins explicitly; sqlite3 begins before the first write.
        Inside `transaction()` a write (or a read after one) uses the unit's cursor and
        nothing is committed here; a read before any write runs on its own, as outside."""
        unit: _Unit | None = getattr(self._local, "unit", None)
        if unit is not None and not read:
            unit.users.clear()  # a write may change a user read along earlier
        if unit is not None and not (read and unit.cursor is None and not unit.behind):
            cursor = self._unit_cursor(unit)
            try:
                if unit.behind:  # what comes next sees the writes held back
                    grouped, unit.behind = groups(unit.behind), []
                    self._send(cursor, grouped)
                yield cursor
            except self.database.error as exc:
                unit.failed = True
                raise self._store_error(self._connection(), exc) from exc
            return
        conn = self._connection()
        try:
            cursor = self._cursor_of(conn)
            if transaction and self.database.dialect == "postgresql":
                cursor.execute("BEGIN")
            yield cursor
            conn.commit()
        except self.database.error as exc:
            raise self._store_error(conn, exc) from exc
        except BaseException:
            conn.rollback()
            raise

    def _unit_cursor(self, unit: _Unit) -> Any:
        if unit.cursor is None:
            conn = self._connection()
            try:
                unit.cursor = self._cursor_of(conn)
                if self.database.dialect == "postgresql":
                    unit.cursor.execute("BEGIN")
            except self.database.error as exc:
                raise self._store_error(conn, exc) from exc
        return unit.cursor

    def _sql(self, text: str) -> str:
        """The statement in the driver's parameter style, worked out once per statement."""
        found = self._prepared.get(text)
        if found is None:
            found = self._prepared[text] = self.database.sql(text)
        return found

    def _run(self, cursor: Any, sql: str, params: Mapping[str, Any] | None = None) -> int:
        """Run one statement on an open cursor; the number of rows it changed."""
        cursor.execute(self._sql(sql), params or {})
        return int(cursor.rowcount)

    def _one(self, sql: str, params: Mapping[str, Any] | None = None) -> tuple[Any, ...] | None:
        if params and _has_nul(params):
            return None
        with self._cursor(transaction=False, read=True) as cursor:
            cursor.execute(self._sql(sql), params or {})
            row = cursor.fetchone()
        return None if row is None else tuple(row)

    def _all(self, sql: str, params: Mapping[str, Any] | None = None) -> list[tuple[Any, ...]]:
        if params and _has_nul(params):
            return []
        with self._cursor(transaction=False, read=True) as cursor:
            cursor.execute(self._sql(sql), params or {})
            return [tuple(row) for row in cursor.fetchall()]

    def _write(self, sql: str, params: Mapping[str, Any] | None = None) -> int:
        unit: _Unit | None = getattr(self._local, "unit", None)
        if unit is not None and unit.behind:  # the writes held back may ride along
            group = folded(unit.behind, Write(sql, params or {}))
            if group is not None:
                unit.behind = []
                sql, params = group.statement()
        with self._cursor(transaction=False) as cursor:
            return self._run(cursor, sql, params)

    def _write_later(self, writes: Sequence[Write]) -> None:
        """Writes whose results nobody reads: inside a unit of work on PostgreSQL, held back
        and sent together (write_behind.py); otherwise made now, in one transaction."""
        unit: _Unit | None = getattr(self._local, "unit", None)
        if unit is not None:
            unit.users.clear()  # a write may change a user read along earlier
        if unit is not None and self.database.dialect == "postgresql":
            unit.behind.extend(writes)
        else:
            self._write_now(writes)

    def _write_now(self, writes: Sequence[Write]) -> None:
        if self.database.dialect == "postgresql":
            self._send_apart(groups(writes))
            return
        with self._cursor() as cursor:
            for write in writes:
                self._run(cursor, write.sql, write.params)

    def _send_apart(self, grouped: Sequence[Group]) -> None:
        """PostgreSQL, outside a unit: one group is one statement on its own (atomic);
        several go in one transaction."""
        with self._cursor(transaction=len(grouped) > 1) as cursor:
            self._send(cursor, grouped)

    def _send(self, cursor: Any, grouped: Sequence[Group]) -> None:
        for group in grouped:
            sql, params = group.statement()
            self._run(cursor, sql, params)

    def close(self) -> None:
        """Close this thread's connection (and the engine, if one was made)."""
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
            self._local.conn = self._local.cursor = None
        if "engine" in self.__dict__:
            self.engine.dispose()
        self.database.close()

    # -- server state -------------------------------------------------------------------------

    def get_or_create_state(self, name: str, make: str) -> str:
        """A named server value; `make` is stored if none exists yet (first writer wins)."""
        params = {"name": name, "value": make}
        with self._cursor() as cursor:
            self._run(
                cursor,
                "INSERT INTO server_state (name, value) VALUES (:name, :value)"
                " ON CONFLICT (name) DO NOTHING",
                params,
            )
            self._run(cursor, "SELECT value FROM server_state WHERE name = :name", params)
            return str(cursor.fetchone()[0])

    def first_proof_use(self, jti_hash: str, expires_at: float) -> bool:
        """Record a DPoP proof's jti (its hash); False if any instance recorded it before
        (RFC 9449 §11.1). The primary key decides, in the request's transaction: a second
        insert of the same jti waits for the first to commit, then changes nothing."""
        params = {"jti_hash": jti_hash, "expires_at": expires_at}
        return self._write(SQL_FIRST_PROOF, params) == 1

    def clock_offset(self) -> float:
        """The admin clock's offset that every instance on this database shares."""
        row = self._one(SQL_CLOCK_OFFSET)
        return 0.0 if row is None else float(row[0])

    def advance_clock(self, seconds: float) -> float:
        """Move the shared clock forward, atomically across instances; the new offset."""
        with self._cursor() as cursor:
            self._run(cursor, SQL_ADVANCE_CLOCK, {"seconds": seconds})
            return float(cursor.fetchone()[0])

    def queue_claims(self, kind: str, name: str, claims: str) -> None:
        """Add claims (a JSON object) to those queued for a user's or a client's next token."""
        self._write(SQL_QUEUE_CLAIMS, {"kind": kind, "name": name, "claims": claims})

    def request_state(self, path_hash: str) -> SharedRequestState:
        """As a request starts, on a database that instances share: the admin clock's
        offset, whether any claims are queued, and the fault injected for the request's
        path (its SHA-256), taken (its count less one) if there is one: one statement.
        It also reads the clients table's version (a trigger moves it on every change):
        inside a unit of work, until it ends, `client()` reuses a client parsed at that
        version without reading its row again."""
        row = self._one(SQL_REQUEST_STATE, {"path_hash": path_hash})
        assert row is not None  # the statement always returns its one row
        offset, queued, status, delay, malformed, clients_version = row
        if getattr(self._local, "unit", None) is not None:  # cleared as the unit ends
            self._local.clients_version = clients_version or ""
        fault = None if delay is None else (status, float(delay), bool(malformed))
        return SharedRequestState(0.0 if offset is None else float(offset), bool(queued), fault)

    def inject_fault(
        self, path_hash: str, path: str, fault: tuple[int, int | None, float, bool]
    ) -> None:
        """Inject (or replace) the fault for a path: (count, status, delay, malformed)."""
        remaining, status, delay, malformed = fault
        values = {"path_hash": path_hash, "path": path, "remaining": remaining}
        values |= {"status": status, "delay": delay, "malformed": malformed}
        self._write(SQL_INJECT_FAULT, values)

    def take_claims(self, kind: str, name: str) -> str | None:
        """The queued claims (JSON), deleted as they are read, in the request's transaction:
        of two instances taking them at once, the second waits for the first to commit and
        then finds nothing, so exactly one token gets them."""
        with self._cursor() as cursor:
            self._run(cursor, SQL_TAKE_CLAIMS, {"kind": kind, "name": name})
            row = cursor.fetchone()
        return None if row is None else str(row[0])

    def keys_version(self) -> tuple[int, float, float]:
        """Changes whenever a key is added or retired, by any process."""
        row = self._one("SELECT count(*), max(created_at), max(retired_at) FROM signing_keys")
        assert row is not None
        count, created, retired = row
        return int(count), float(created or 0), float(retired or 0)

    def add_missing_signing_keys(
        self, algs: Sequence[str], make: Callable[[str], tuple[str, str]], now: float
    ) -> None:
        """Generate a key for each alg with no active key, once across processes: on
        PostgreSQL under an advisory lock, on SQLite inside one write transaction."""
        with self._cursor() as cursor:
            if self.database.dialect == "postgresql":
                cursor.execute("SELECT pg_advisory_xact_lock(7270001)")
            elif not self._connection().in_transaction:  # in a unit that wrote: it is held
                cursor.execute("BEGIN IMMEDIATE")  # other writers wait for this one
            cursor.execute("SELECT alg FROM signing_keys WHERE retired_at IS NULL")
            active = {row[0] for row in cursor.fetchall()}
            for alg in algs:
                if alg not in active:
                    kid, private_jwk = make(alg)
                    self._run(
                        cursor,
                        _insert("signing_keys", ("kid", "alg", "private_jwk", "created_at")),
                        {"kid": kid, "alg": alg, "private_jwk": private_jwk, "created_at": now},
                    )

    def signing_keys(self) -> list[tuple[str, str, str, float, float | None]]:
        rows = self._all(
            "SELECT kid, alg, private_jwk, created_at, retired_at FROM signing_keys"
            " ORDER BY created_at"
        )
        return [(r[0], r[1], r[2], r[3], r[4]) for r in rows]

    def prune_expired(self, now: float, keep: float = 86400.0) -> int:
        """Delete what can no longer be used: pending requests, codes, sessions and tokens
        that expired more than `keep` seconds ago (a day: replays are still recognised)."""
        params = {"now": now, "before": now - keep}
        with self._cursor() as cursor:
            return sum(self._run(cursor, sql, params) for sql in SQL_PRUNE)

    def retire_signing_keys(self, until: float) -> None:
        self._write(
            "UPDATE signing_keys SET retired_at = :until WHERE retired_at IS NULL",
            {"until": until},
        )

    # -- users --------------------------------------------------------------------------------

    def add_user(
        self, username: str, password_hash: str, claims: dict[str, object], now: float
    ) -> User:
        sub = secrets.token_hex(16)
        values = {
            "sub": sub,
            "username": username,
            "password_hash": password_hash,
            "claims": json.dumps(claims, sort_keys=True),
            "created_at": now,
        }
        with self._cursor() as cursor:
            self._run(cursor, "SELECT id FROM users WHERE username = :username", values)
            if cursor.fetchone() is not None:
                raise DuplicateError(f"a user named {username!r} already exists")
            if self.database.dialect == "sqlite":
                values = {"id": self._next_user_id(cursor), **values}
            self._run(cursor, _insert("users", tuple(values)) + " RETURNING id", values)
            user_id = int(cursor.fetchone()[0])
        return User(user_id, sub, username, password_hash, dict(claims))

    def _next_user_id(self, cursor: Any) -> int:
        """SQLite hands a deleted user's id to the next user created (a rowid without
        AUTOINCREMENT), and a code or token left behind would then speak for the new user.
        So ids come from a high-water mark that only grows (PostgreSQL's sequences do not
        reuse ids). Rebuilding the table with AUTOINCREMENT would, with foreign keys on,
        cascade-delete every row that refers to a user."""
        cursor.execute(SQL_USER_HIGH_WATER)
        row = cursor.fetchone()
        stored = int(row[0]) if row else 0
        cursor.execute("SELECT COALESCE(MAX(id), 0) FROM users")
        next_id = max(stored, int(cursor.fetchone()[0])) + 1
        self._run(cursor, SQL_SET_USER_HIGH_WATER, {"value": str(next_id)})
        return next_id

    def user_by_name(self, username: str) -> User | None:
        row = self._one(SQL_USER_BY_NAME, {"username": username})
        return None if row is None else _user(row)

    def user_by_id(self, user_id: int) -> User | None:
        unit: _Unit | None = getattr(self._local, "unit", None)
        if unit is not None and user_id in unit.users:
            return unit.users[user_id]
        row = self._one(SQL_USER_BY_ID, {"user_id": user_id})
        return None if row is None else _user(row)

    def _read_along(self, user_row: Sequence[Any]) -> None:
        """Keep a user read in the same statement as a code or a token, for this unit."""
        unit: _Unit | None = getattr(self._local, "unit", None)
        if unit is not None and user_row and user_row[0] is not None:
            unit.users[int(user_row[0])] = _user(user_row)

    def users(self) -> list[User]:
        return [_user(r) for r in self._all(_select(USER_COLUMNS, "FROM users ORDER BY username"))]

    def count_users(self) -> int:
        row = self._one("SELECT count(*) FROM users")
        return int(row[0]) if row else 0

    def set_claims(self, user_id: int, claims: dict[str, object]) -> None:
        self._write(
            "UPDATE users SET claims = :claims WHERE id = :user_id",
            {"claims": json.dumps(claims, sort_keys=True), "user_id": user_id},
        )

    def remove_user(self, username: str, now: float) -> bool:
        """Delete a user; their grants and tokens are revoked first."""
        with self._cursor() as cursor:
            self._run(
                cursor, "SELECT id FROM users WHERE username = :username", {"username": username}
            )
            row = cursor.fetchone()
            if row is None:
                return False
            params = {"user_id": row[0], "now": now}
            self._revoke_grants(cursor, GRANTS_OF_USER, params)
            self._run(cursor, "DELETE FROM login_sessions WHERE user_id = :user_id", params)
            self._run(cursor, "DELETE FROM codes WHERE user_id = :user_id", params)
            self._run(cursor, "DELETE FROM consents WHERE user_id = :user_id", params)
            self._run(cursor, "DELETE FROM users WHERE id = :user_id", params)
            return True

    def set_password_hash(self, user_id: int, password_hash: str) -> None:
        self._write(
            "UPDATE users SET password_hash = :password_hash WHERE id = :user_id",
            {"password_hash": password_hash, "user_id": user_id},
        )

    # -- clients ------------------------------------------------------------------------------

    def add_client(self, client: Client, now: float) -> None:
        values = _client_values(client, now)
        self._clients_changed(client.client_id)
        with self._cursor() as cursor:
            self._run(cursor, "SELECT 1 FROM clients WHERE client_id = :client_id", values)
            if cursor.fetchone() is not None:
                raise DuplicateError(f"a client with id {client.client_id!r} already exists")
            self._run(cursor, _insert("clients", tuple(values)), values)

    def save_document_client(self, client: Client, now: float) -> None:
        """Store (or update) a client a metadata document describes: its row follows the
        document, so consents and grants can name it. A row of another origin is kept."""
        values = _client_values(client, now)
        self._clients_changed(client.client_id)
        with self._cursor() as cursor:
            self._run(cursor, "SELECT origin FROM clients WHERE client_id = :client_id", values)
            found = cursor.fetchone()
            if found is None:
                self._run(cursor, _insert("clients", tuple(values)), values)
                return
            if found[0] != "cimd":
                raise DuplicateError(f"a client with id {client.client_id!r} already exists")
            changed = [c for c in values if c not in ("client_id", "created_at")]
            assignments = ", ".join(f"{c} = :{c}" for c in changed)
            sql = f"UPDATE clients SET {assignments} WHERE client_id = :client_id"  # noqa: S608
            self._run(cursor, sql, values)

    def count_clients(self, origin: str) -> int:
        row = self._one("SELECT COUNT(*) FROM clients WHERE origin = :origin", {"origin": origin})
        return 0 if row is None else int(row[0])

    def client(self, client_id: str) -> Client | None:
        """Read on every call (a change by another process shows at once), except inside a
        request on a shared database that saw the clients table at the version this client
        was parsed at (`request_state`); parsed only when the row differs from the one
        parsed last time."""
        known = getattr(self._local, "clients_version", None)
        cached = self._clients.get(client_id)
        if known is not None and cached is not None and cached[2] == known:
            return cached[1]
        row = self._one(SQL_CLIENT, {"client_id": client_id})
        if row is None:
            return None
        client = cached[1] if cached is not None and cached[0] == row else _client(row)
        if len(self._clients) >= MAX_CACHED_CLIENTS:
            self._clients.clear()
        self._clients[client_id] = (row, client, known)
        return client

    def _clients_changed(self, client_id: str) -> None:
        """This thread changed a client: what it reads next comes from the table."""
        self._local.clients_version = None
        self._clients.pop(client_id, None)

    def clients(self) -> list[Client]:
        rows = self._all(_select(CLIENT_COLUMNS, "FROM clients ORDER BY client_id"))
        return [_client(r) for r in rows]

    def remove_client(self, client_id: str, now: float) -> bool:
        """Delete a client; its grants and tokens are revoked first, so nothing it held works."""
        params = {"client_id": client_id, "now": now}
        self._clients_changed(client_id)
        with self._cursor() as cursor:
            self._revoke_grants(cursor, GRANTS_OF_CLIENT, params)
            self._run(
                cursor,
                "UPDATE tokens SET revoked_at = :now"
                " WHERE client_id = :client_id AND revoked_at IS NULL",
                params,
            )
            self._run(cursor, "DELETE FROM consents WHERE client_id = :client_id", params)
            return self._run(cursor, "DELETE FROM clients WHERE client_id = :client_id", params) > 0

    # -- resources (RFC 8707) -----------------------------------------------------------------

    def add_resource(self, resource: Resource, now: float) -> None:
        values = {
            "uri": resource.uri,
            "name": resource.name,
            "scopes": " ".join(sorted(resource.scopes)),
            "created_at": now,
            "client_id": resource.client_id,
        }
        with self._cursor() as cursor:
            self._run(cursor, "SELECT 1 FROM resources WHERE uri = :uri", values)
            if cursor.fetchone() is not None:
                raise DuplicateError(f"a resource {resource.uri!r} is registered already")
            self._run(cursor, _insert("resources", tuple(values)), values)

    def resource(self, uri: str) -> Resource | None:
        row = self._one(SQL_RESOURCE, {"uri": uri})
        return None if row is None else _resource(row)

    def resources(self) -> list[Resource]:
        return [
            _resource(r)
            for r in self._all(_select(RESOURCE_COLUMNS, "FROM resources ORDER BY uri"))
        ]

    def remove_resource(self, uri: str) -> bool:
        """Forget a resource: no new request can name it; tokens issued for it keep their
        audience until they expire (revoke the grants to stop them sooner)."""
        return self._write("DELETE FROM resources WHERE uri = :uri", {"uri": uri}) > 0

    # -- login sessions -----------------------------------------------------------------------

    def create_session(
        self, id_hash: str, user_id: int, auth_time: float, expires_at: float
    ) -> None:
        values = {
            "id_hash": id_hash,
            "user_id": user_id,
            "auth_time": auth_time,
            "expires_at": expires_at,
        }
        self._write_later([Write(SQL_INSERT_SESSION, values)])

    def session(self, id_hash: str, now: float) -> LoginSession | None:
        row = self._one(SQL_SESSION, {"id_hash": id_hash, "now": now})
        return None if row is None else LoginSession(*row)

    def delete_session(self, id_hash: str) -> None:
        self._write("DELETE FROM login_sessions WHERE id_hash = :id_hash", {"id_hash": id_hash})

    # -- consent ------------------------------------------------------------------------------

    def consent(self, user_id: int, client_id: str) -> str | None:
        row = self._one(SQL_CONSENT, {"user_id": user_id, "client_id": client_id})
        return None if row is None else str(row[0])

    def save_consent(self, user_id: int, client_id: str, scope: str, now: float) -> None:
        values = {"user_id": user_id, "client_id": client_id, "scope": scope, "granted_at": now}
        with self._cursor() as cursor:
            self._run(
                cursor,
                "DELETE FROM consents WHERE user_id = :user_id AND client_id = :client_id",
                values,
            )
            self._run(cursor, _insert("consents", tuple(values)), values)

    def consents(self, user_id: int) -> list[Consent]:
        rows = self._all(
            "SELECT consents.client_id, clients.name, consents.scope, consents.granted_at,"
            " clients.origin"
            " FROM consents JOIN clients ON clients.client_id = consents.client_id"
            " WHERE consents.user_id = :user_id ORDER BY clients.name",
            {"user_id": user_id},
        )
        return [Consent(*row) for row in rows]

    def withdraw_consent(self, user_id: int, client_id: str, now: float) -> int:
        """Forget the consent and revoke every grant (and so every token) the client holds."""
        params = {"user_id": user_id, "client_id": client_id, "now": now}
        with self._cursor() as cursor:
            self._run(
                cursor,
                "DELETE FROM consents WHERE user_id = :user_id AND client_id = :client_id",
                params,
            )
            return self._revoke_grants(cursor, GRANTS_OF_USER_AND_CLIENT, params)

    # -- authorization requests and codes -----------------------------------------------------

    def save_auth_request(self, request: AuthRequest) -> None:
        """Store a pending request, with the request's other writes (`pending_cap` decides
        whether there is room)."""
        self._write_later([Write(SQL_INSERT_AUTH_REQUEST, _fields(request))])

    def count_auth_requests(self) -> int:
        row = self._one("SELECT COUNT(*) FROM auth_requests")
        return 0 if row is None else int(row[0])

    def auth_request(self, request_id: str, now: float) -> AuthRequest | None:
        row = self._one(SQL_AUTH_REQUEST, {"request_id": request_id, "now": now})
        return None if row is None else AuthRequest(*row)

    def rebind_auth_request(self, request_id: str, old_hash: str, new_hash: str) -> bool:
        """Move a pending request to the browser's new id (rotated at login)."""
        sql = "UPDATE auth_requests SET browser_hash = :new WHERE id = :id AND browser_hash = :old"
        return self._write(sql, {"id": request_id, "old": old_hash, "new": new_hash}) == 1

    def finish_auth_request(self, request_id: str, code: Code | None) -> bool:
        """Delete the pending request and store its code, once: False if already finished."""
        with self.transaction():
            if self._write("DELETE FROM auth_requests WHERE id = :id", {"id": request_id}) == 0:
                return False
            if code is not None:
                self._write_later([Write(SQL_INSERT_CODE, _fields(code))])
            return True

    # -- device authorization (RFC 8628) -----------------------------------------------------

    def save_device_code(self, device: DeviceCode) -> bool:
        """Store a new device request; False when its user code is taken (the caller draws
        another)."""
        with self._cursor() as cursor:
            self._run(
                cursor,
                "SELECT 1 FROM device_codes WHERE user_code = :user_code",
                {"user_code": device.user_code},
            )
            if cursor.fetchone() is not None:
                return False
            self._run(cursor, _insert("device_codes", DEVICE_COLUMNS), _fields(device))
            return True

    def device_code(self, device_code_hash: str) -> DeviceCode | None:
        sql = _select(DEVICE_COLUMNS, "FROM device_codes WHERE device_code_hash = :h")
        row = self._one(sql, {"h": device_code_hash})
        return None if row is None else DeviceCode(*row)

    def device_by_user_code(self, user_code: str, now: float) -> DeviceCode | None:
        """The pending, unexpired request with this user code."""
        sql = _select(
            DEVICE_COLUMNS,
            "FROM device_codes WHERE user_code = :code AND status = 'pending'"
            " AND expires_at > :now",
        )
        row = self._one(sql, {"code": user_code, "now": now})
        return None if row is None else DeviceCode(*row)

    def decide_device_code(
        self, user_code: str, status: str, user_id: int, auth_time: float
    ) -> bool:
        """The user's decision (approved or denied), once: False if already decided."""
        sql = (
            "UPDATE device_codes SET status = :status, user_id = :user_id,"
            " auth_time = :auth_time WHERE user_code = :code AND status = 'pending'"
        )
        values = {"status": status, "user_id": user_id, "auth_time": auth_time, "code": user_code}
        return self._write(sql, values) == 1

    def record_device_poll(self, device_code_hash: str, now: float, interval: int) -> None:
        sql = (
            "UPDATE device_codes SET last_polled_at = :now, poll_interval = :interval"
            " WHERE device_code_hash = :h"
        )
        self._write(sql, {"now": now, "interval": interval, "h": device_code_hash})

    def claim_device_code(self, device_code_hash: str) -> bool:
        """Mark an approved request used; True only for the one caller that did it."""
        sql = (
            "UPDATE device_codes SET status = 'used'"
            " WHERE device_code_hash = :h AND status = 'approved'"
        )
        return self._write(sql, {"h": device_code_hash}) == 1

    def code(self, code_hash: str) -> Code | None:
        row = self._one(SQL_CODE, {"code_hash": code_hash})
        if row is None:
            return None
        self._read_along(row[len(CODE_COLUMNS) :])
        return Code(*row[: len(CODE_COLUMNS)])

    def claim_code(self, code_hash: str, now: float, grant_id: str) -> bool:
        """Mark the code used; True only for the one caller that did it (RFC 6749 §4.1.2)."""
        params = {"code_hash": code_hash, "now": now, "grant_id": grant_id}
        return self._write(SQL_CLAIM_CODE, params) == 1

    # -- grants and tokens --------------------------------------------------------------------

    def issue(self, grant: Grant | None, tokens: Sequence[Token]) -> None:
        """Store a new grant (if any) and the tokens issued under it, in one transaction."""
        writes = [Write(SQL_INSERT_GRANT, _fields(grant))] if grant is not None else []
        writes += [Write(SQL_INSERT_TOKEN, _fields(token)) for token in tokens]
        self._write_later(writes)

    def grant(self, grant_id: str) -> Grant | None:
        row = self._one(SQL_GRANT, {"grant_id": grant_id})
        return None if row is None else Grant(*row)

    def token(self, token_id: str) -> tuple[Token, float | None] | None:
        """The token and its grant's revocation time (None when the grant stands)."""
        row = self._one(SQL_TOKEN, {"token_id": token_id})
        if row is None:
            return None
        count = len(TOKEN_COLUMNS)
        self._read_along(row[count + 1 :])
        return Token(*row[:count]), row[count]

    def claim_refresh_token(self, token_id: str, now: float) -> bool:
        """Mark a refresh token used (rotation); True only for the one caller that did it."""
        return self._write(SQL_CLAIM_REFRESH, {"token_id": token_id, "now": now}) == 1

    def revoke_token(self, token_id: str, now: float) -> None:
        self._write(
            "UPDATE tokens SET revoked_at = :now WHERE id = :token_id AND revoked_at IS NULL",
            {"token_id": token_id, "now": now},
        )

    def revoke_grant(self, grant_id: str, now: float) -> int:
        with self._cursor() as cursor:
            return self._revoke_grants(cursor, GRANT_BY_ID, {"grant_id": grant_id, "now": now})

    def _revoke_grants(self, cursor: Any, where: str, params: Mapping[str, Any]) -> int:
        """Revoke the grants matching `where` (one of the GRANTS_* conditions above) and all
        their tokens; the number of grants matched."""
        count, revoke_grants, revoke_tokens = _revocation(where)
        self._run(cursor, count, params)
        matched = int(cursor.fetchone()[0])
        if matched:
            self._run(cursor, revoke_grants, params)
            self._run(cursor, revoke_tokens, params)
        return matched

    # -- flow records -------------------------------------------------------------------------

    def start_flow(self, flow_id: str, client_id: str, now: float) -> None:
        self.save_flow_records([FlowStart(flow_id, client_id, now)])

    def record(
        self, event: FlowEvent, outcome: str | None = None, user_id: int | None = None
    ) -> None:
        self.save_flow_records([FlowUpdate(event, outcome, user_id)])

    def save_flow_records(self, records: Sequence[FlowStart | FlowUpdate]) -> None:
        """New flows and their events, in order, in one transaction; a flow's summary row is
        written once for all of its records here (`_flow_writes`)."""
        if records:
            self._write_later(_flow_writes(records))

    def flow_events(self, flow_id: str) -> list[FlowEvent]:
        rows = self._all(
            _select(EVENT_COLUMNS, "FROM flow_events WHERE flow_id = :flow_id ORDER BY id"),
            {"flow_id": flow_id},
        )
        events = []
        for r in rows:
            values = dict(zip(EVENT_COLUMNS, r, strict=True))
            values["params"] = json.loads(values["params"])
            values["checks"] = json.loads(values["checks"])
            values["carried_password"] = bool(values["carried_password"])
            events.append(FlowEvent(**values))
        return events

    def flows(self, limit: int = 50) -> list[dict[str, Any]]:
        """Newest first, with the username when the flow got as far as a login."""
        rows = self._all(
            SQL_FLOWS + " ORDER BY flows.started_at DESC LIMIT :limit", {"limit": limit}
        )
        return [_flow_dict(r) for r in rows]

    def flow(self, flow_id: str) -> dict[str, Any] | None:
        row = self._one(SQL_FLOWS + " WHERE flows.id = :flow_id", {"flow_id": flow_id})
        return None if row is None else _flow_dict(row)

    def prune_flows(self, keep: int, older_than: float) -> int:
        """Keep at most the newest `keep` flows, none started before `older_than`."""
        params: dict[str, Any] = {"keep": keep, "older_than": older_than}
        with self._cursor() as cursor:
            self._run(
                cursor,
                "SELECT started_at FROM flows ORDER BY started_at DESC LIMIT 1 OFFSET :keep",
                params,
            )
            row = cursor.fetchone()
            stale = "started_at < :older_than"
            if row is not None:
                params["cutoff"] = row[0]
                stale += " OR started_at <= :cutoff"
            self._run(
                cursor,
                # `stale` is built above from constants; the values are bound parameters
                f"DELETE FROM flow_events WHERE flow_id IN (SELECT id FROM flows WHERE {stale})",  # noqa: S608
                params,
            )
            return self._run(cursor, f"DELETE FROM flows WHERE {stale}", params)  # noqa: S608

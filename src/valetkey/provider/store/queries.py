"""Every query the provider runs, as methods of `Store`; one short transaction each.

The statements of the hot paths (a token request, each step of a flow) are SQLAlchemy
expressions compiled once per database and run straight on the driver's cursor: going
through SQLAlchemy's execution machinery cost more than the query itself. The rest go
through SQLAlchemy as usual.

Single use is decided by the database, not by a read followed by a write: a code or refresh
token is claimed with `UPDATE ... WHERE used_at IS NULL`, and only the caller whose update
changed a row wins (RFC 6749 §4.1.2, §10.5; RFC 9700 §4.14). That holds across threads,
processes and instances that share the database.
"""

from __future__ import annotations

import json
import secrets
import threading
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    Connection,
    Engine,
    bindparam,
    delete,
    func,
    insert,
    or_,
    select,
    update,
)
from sqlalchemy.exc import DBAPIError
from sqlalchemy.sql import Insert, Select

from valetkey.provider.store import schema as t
from valetkey.provider.store.records import (
    AuthRequest,
    Client,
    Code,
    Consent,
    FlowEvent,
    FlowStart,
    FlowUpdate,
    Grant,
    LoginSession,
    Token,
    User,
)


class DuplicateError(ValueError):
    """A user or client with that name already exists."""


# prebuilt statements for the hot paths: building the expression per call costs more than
# running it
_CLIENT = select(t.clients).where(t.clients.c.client_id == bindparam("client_id"))
_TOKEN = (
    select(t.tokens, t.grants.c.revoked_at.label("grant_revoked_at"))
    .outerjoin(t.grants, t.grants.c.id == t.tokens.c.grant_id)
    .where(t.tokens.c.id == bindparam("token_id"))
)
_INSERT_TOKEN = insert(t.tokens).inline()
_INSERT_GRANT = insert(t.grants).inline()
_USER_BY_ID = select(t.users).where(t.users.c.id == bindparam("user_id"))
_USER_BY_NAME = select(t.users).where(t.users.c.username == bindparam("username"))
_SESSION = select(t.login_sessions).where(
    t.login_sessions.c.id_hash == bindparam("id_hash"),
    t.login_sessions.c.expires_at > bindparam("now"),
)
_CONSENT = select(t.consents.c.scope).where(
    t.consents.c.user_id == bindparam("user_id"), t.consents.c.client_id == bindparam("client_id")
)
_AUTH_REQUEST = select(t.auth_requests).where(
    t.auth_requests.c.id == bindparam("request_id"), t.auth_requests.c.expires_at > bindparam("now")
)
_CODE = select(t.codes).where(t.codes.c.code_hash == bindparam("code_hash"))
_CLAIM_CODE = (
    update(t.codes)
    .where(t.codes.c.code_hash == bindparam("b_code_hash"), t.codes.c.used_at.is_(None))
    .values(used_at=bindparam("now"), grant_id=bindparam("grant"))
)
_CLAIM_REFRESH = (
    update(t.tokens)
    .where(
        t.tokens.c.id == bindparam("b_token_id"),
        t.tokens.c.used_at.is_(None),
        t.tokens.c.revoked_at.is_(None),
    )
    .values(used_at=bindparam("now"))
)
_GRANT = select(t.grants).where(t.grants.c.id == bindparam("grant_id"))
_INSERT_EVENT = insert(t.flow_events).inline()
_INSERT_FLOW = insert(t.flows).inline()
_UPDATE_FLOW = (
    update(t.flows)
    .where(t.flows.c.id == bindparam("b_flow_id"))
    .values(
        updated_at=bindparam("at"),
        failed_checks=t.flows.c.failed_checks + bindparam("failed"),
        outcome=func.coalesce(
            bindparam("b_outcome", type_=t.flows.c.outcome.type), t.flows.c.outcome
        ),
        user_id=func.coalesce(
            bindparam("b_user_id", type_=t.flows.c.user_id.type), t.flows.c.user_id
        ),
    )
)
_INSERT_SESSION = insert(t.login_sessions).inline()
_INSERT_AUTH_REQUEST = insert(t.auth_requests).inline()
_DELETE_AUTH_REQUEST = delete(t.auth_requests).where(t.auth_requests.c.id == bindparam("b_id"))
_INSERT_CODE = insert(t.codes).inline()


def _user(row: Mapping[Any, Any]) -> User:
    return User(
        row["id"], row["sub"], row["username"], row["password_hash"], json.loads(row["claims"])
    )


def _client(row: Mapping[Any, Any]) -> Client:
    return Client(
        client_id=row["client_id"],
        secret_hash=row["secret_hash"],
        name=row["name"],
        redirect_uris=tuple(json.loads(row["redirect_uris"])),
        post_logout_redirect_uris=tuple(json.loads(row["post_logout_redirect_uris"])),
        scopes=frozenset(row["scopes"].split()),
        grant_types=frozenset(json.loads(row["grant_types"])),
        id_token_alg=row["id_token_alg"],
    )


def _fields(record: object) -> dict[str, Any]:
    return dict(vars(record))


@dataclass(frozen=True)
class _Compiled:
    """A statement as the driver takes it: SQL text, parameter order, result column names."""

    sql: str
    order: tuple[str, ...] | None  # positional drivers (sqlite3): the names in order
    columns: tuple[str, ...]

    def args(self, params: Mapping[str, Any]) -> Any:
        return params if self.order is None else tuple(params[name] for name in self.order)


def _flow_row(start: FlowStart) -> dict[str, Any]:
    return {
        "id": start.flow_id,
        "client_id": start.client_id,
        "started_at": start.at,
        "updated_at": start.at,
        "outcome": "in_progress",
        "failed_checks": 0,
        "user_id": None,
    }


def _event_row(event: FlowEvent) -> dict[str, Any]:
    row = _fields(event)
    row["params"] = json.dumps(event.params, sort_keys=True)
    row["checks"] = json.dumps(event.checks)
    return row


def _flow_update(update: FlowUpdate) -> dict[str, Any]:
    checks = update.event.checks
    return {
        "b_flow_id": update.event.flow_id,
        "at": update.event.at,
        "failed": sum(1 for check in checks if check.get("result") == "fail"),
        "b_outcome": update.outcome,
        "b_user_id": update.user_id,
    }


class Store:
    """Queries over one engine. Each thread keeps its own open connection: checking one out
    of the pool for every query cost more than the query itself."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._local = threading.local()
        self._statements: dict[tuple[int, tuple[str, ...]], _Compiled] = {}
        self._driver_error: type[Exception] = engine.dialect.loaded_dbapi.Error
        # parsed clients by id, with the row they were parsed from: reused while it matches
        self._clients: dict[str, tuple[tuple[Any, ...], Client]] = {}

    def _connection(self) -> Connection:
        conn: Connection | None = getattr(self._local, "conn", None)
        if conn is None or conn.closed or conn.invalidated:
            conn = self.engine.connect()
            self._local.conn = conn
        return conn

    @contextmanager
    def _tx(self) -> Iterator[Connection]:
        conn = self._connection()
        try:
            with conn.begin():
                yield conn
        except DBAPIError as exc:
            if exc.connection_invalidated:  # the server went away: reconnect next time
                self._local.conn = None
            raise

    # -- the driver-level path for hot statements ------------------------------------------------

    def _compiled(self, stmt: Any, keys: tuple[str, ...] = ()) -> _Compiled:
        """`stmt` compiled for this database, once (statements are module constants)."""
        found = self._statements.get((id(stmt), keys))
        if found is None:
            compiled = stmt.compile(dialect=self.engine.dialect, column_keys=list(keys) or None)
            columns = tuple(stmt.selected_columns.keys()) if isinstance(stmt, Select) else ()
            order = tuple(compiled.positiontup or ()) if compiled.positional else None
            found = _Compiled(compiled.string, order, columns)
            self._statements[(id(stmt), keys)] = found
        return found

    @contextmanager
    def _cursor(self) -> Iterator[Any]:
        """A driver cursor in a transaction of its own, committed at the end; driver errors
        come out as SQLAlchemy's DBAPIError, as from the rest of the store."""
        conn = self._connection()
        dbapi = conn.connection.dbapi_connection
        assert dbapi is not None
        cursor = None
        try:
            cursor = dbapi.cursor()
            yield cursor
            dbapi.commit()
        except self._driver_error as exc:
            gone = self.engine.dialect.is_disconnect(exc, dbapi, cursor)  # type: ignore[arg-type]
            if gone:  # the server went away: reconnect next time
                conn.invalidate()
                self._local.conn = None
            else:
                dbapi.rollback()
            raise DBAPIError.instance(
                None, None, exc, self._driver_error, connection_invalidated=gone
            ) from exc
        except BaseException:
            dbapi.rollback()
            raise

    def _execute(self, cursor: Any, stmt: Any, params: Mapping[str, Any]) -> int:
        """Run a prebuilt statement on an open cursor; the number of rows it changed."""
        compiled = self._compiled(stmt, tuple(params) if isinstance(stmt, Insert) else ())
        cursor.execute(compiled.sql, compiled.args(params))
        return int(cursor.rowcount)

    def _insert_many(self, cursor: Any, stmt: Any, rows: Sequence[Mapping[str, Any]]) -> None:
        compiled = self._compiled(stmt, tuple(rows[0]))
        cursor.executemany(compiled.sql, [compiled.args(row) for row in rows])

    def _fetch(self, stmt: Any, params: Mapping[str, Any]) -> tuple[Any, ...] | None:
        compiled = self._compiled(stmt)
        with self._cursor() as cursor:
            cursor.execute(compiled.sql, compiled.args(params))
            row = cursor.fetchone()
        return None if row is None else tuple(row)

    def _first(self, stmt: Any, params: Mapping[str, Any]) -> dict[str, Any] | None:
        """The first row of a prebuilt SELECT, by column name."""
        row = self._fetch(stmt, params)
        return None if row is None else dict(zip(self._compiled(stmt).columns, row, strict=True))

    def close(self) -> None:
        """Close this thread's connection and the engine's pool."""
        conn: Connection | None = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
            self._local.conn = None
        self.engine.dispose()

    # -- server state -------------------------------------------------------------------------

    def get_or_create_state(self, name: str, make: str) -> str:
        """A named server value; `make` is stored if none exists yet (first writer wins)."""
        with self._tx() as conn:
            row = conn.execute(select(t.server_state.c.value).where(t.server_state.c.name == name))
            value = row.scalar()
            if value is not None:
                return str(value)
            conn.execute(insert(t.server_state).values(name=name, value=make))
            return make

    def keys_version(self) -> tuple[int, float, float]:
        """Changes whenever a key is added or retired, by any process."""
        query = select(
            func.count(),
            func.max(t.signing_keys.c.created_at),
            func.max(t.signing_keys.c.retired_at),
        )
        with self._tx() as conn:
            count, created, retired = conn.execute(query).one()
            return int(count), float(created or 0), float(retired or 0)

    def add_missing_signing_keys(self, algs: Sequence[str], make: Any, now: float) -> None:
        """Generate a key for each alg with no active key, once across processes: on
        PostgreSQL under an advisory lock, on SQLite inside one write transaction."""
        with self._tx() as conn:
            if conn.dialect.name == "postgresql":
                conn.execute(select(func.pg_advisory_xact_lock(727_0001)))
            else:
                conn.exec_driver_sql("SELECT 1")  # the transaction is open; writers queue
            active = {
                r.alg
                for r in conn.execute(
                    select(t.signing_keys.c.alg).where(t.signing_keys.c.retired_at.is_(None))
                )
            }
            for alg in algs:
                if alg not in active:
                    kid, private_jwk = make(alg)
                    conn.execute(
                        insert(t.signing_keys).values(
                            kid=kid, alg=alg, private_jwk=private_jwk, created_at=now
                        )
                    )

    def signing_keys(self) -> list[tuple[str, str, str, float, float | None]]:
        with self._tx() as conn:
            rows = conn.execute(select(t.signing_keys).order_by(t.signing_keys.c.created_at))
            return [(r.kid, r.alg, r.private_jwk, r.created_at, r.retired_at) for r in rows]

    def prune_expired(self, now: float, keep: float = 86400.0) -> int:
        """Delete what can no longer be used: pending requests, codes, sessions and tokens
        that expired more than `keep` seconds ago (a day: replays are still recognised)."""
        before = now - keep
        with self._tx() as conn:
            removed = conn.execute(
                delete(t.auth_requests).where(t.auth_requests.c.expires_at < now)
            ).rowcount
            removed += conn.execute(delete(t.codes).where(t.codes.c.expires_at < before)).rowcount
            removed += conn.execute(
                delete(t.login_sessions).where(t.login_sessions.c.expires_at < now)
            ).rowcount
            removed += conn.execute(delete(t.tokens).where(t.tokens.c.expires_at < before)).rowcount
            return removed

    def retire_signing_keys(self, until: float) -> None:
        with self._tx() as conn:
            conn.execute(
                update(t.signing_keys)
                .where(t.signing_keys.c.retired_at.is_(None))
                .values(retired_at=until)
            )

    # -- users --------------------------------------------------------------------------------

    def add_user(
        self, username: str, password_hash: str, claims: dict[str, object], now: float
    ) -> User:
        sub = secrets.token_hex(16)
        with self._tx() as conn:
            if conn.execute(select(t.users.c.id).where(t.users.c.username == username)).first():
                raise DuplicateError(f"a user named {username!r} already exists")
            result = conn.execute(
                insert(t.users).values(
                    sub=sub,
                    username=username,
                    password_hash=password_hash,
                    claims=json.dumps(claims, sort_keys=True),
                    created_at=now,
                )
            )
            key = result.inserted_primary_key
            assert key is not None
            return User(int(key[0]), sub, username, password_hash, dict(claims))

    def user_by_name(self, username: str) -> User | None:
        row = self._first(_USER_BY_NAME, {"username": username})
        return None if row is None else _user(row)

    def user_by_id(self, user_id: int) -> User | None:
        row = self._first(_USER_BY_ID, {"user_id": user_id})
        return None if row is None else _user(row)

    def users(self) -> list[User]:
        with self._tx() as conn:
            rows = conn.execute(select(t.users).order_by(t.users.c.username))
            return [_user(r._mapping) for r in rows]

    def count_users(self) -> int:
        with self._tx() as conn:
            return int(conn.execute(select(func.count()).select_from(t.users)).scalar_one())

    def set_claims(self, user_id: int, claims: dict[str, object]) -> None:
        with self._tx() as conn:
            conn.execute(
                update(t.users)
                .where(t.users.c.id == user_id)
                .values(claims=json.dumps(claims, sort_keys=True))
            )

    def remove_user(self, username: str, now: float) -> bool:
        """Delete a user; their grants and tokens are revoked first."""
        with self._tx() as conn:
            row = conn.execute(_USER_BY_NAME, {"username": username}).first()
            if row is None:
                return False
            self._revoke_grants(conn, t.grants.c.user_id == row.id, now)
            conn.execute(delete(t.login_sessions).where(t.login_sessions.c.user_id == row.id))
            conn.execute(delete(t.consents).where(t.consents.c.user_id == row.id))
            conn.execute(delete(t.users).where(t.users.c.id == row.id))
            return True

    def set_password_hash(self, user_id: int, password_hash: str) -> None:
        with self._tx() as conn:
            conn.execute(
                update(t.users).where(t.users.c.id == user_id).values(password_hash=password_hash)
            )

    # -- clients ------------------------------------------------------------------------------

    def add_client(self, client: Client, now: float) -> None:
        with self._tx() as conn:
            exists = conn.execute(
                select(t.clients.c.client_id).where(t.clients.c.client_id == client.client_id)
            ).first()
            if exists:
                raise DuplicateError(f"a client with id {client.client_id!r} already exists")
            conn.execute(
                insert(t.clients).values(
                    client_id=client.client_id,
                    secret_hash=client.secret_hash,
                    name=client.name,
                    redirect_uris=json.dumps(list(client.redirect_uris)),
                    post_logout_redirect_uris=json.dumps(list(client.post_logout_redirect_uris)),
                    scopes=" ".join(sorted(client.scopes)),
                    grant_types=json.dumps(sorted(client.grant_types)),
                    id_token_alg=client.id_token_alg,
                    created_at=now,
                )
            )

    def client(self, client_id: str) -> Client | None:
        """Read on every call (a change by another process shows at once); parsed only when
        the row differs from the one parsed last time."""
        row = self._fetch(_CLIENT, {"client_id": client_id})
        if row is None:
            return None
        cached = self._clients.get(client_id)
        if cached is not None and cached[0] == row:
            return cached[1]
        client = _client(dict(zip(self._compiled(_CLIENT).columns, row, strict=True)))
        if len(self._clients) > 1000:
            self._clients.clear()
        self._clients[client_id] = (row, client)
        return client

    def clients(self) -> list[Client]:
        with self._tx() as conn:
            rows = conn.execute(select(t.clients).order_by(t.clients.c.client_id))
            return [_client(r._mapping) for r in rows]

    def remove_client(self, client_id: str, now: float) -> bool:
        """Delete a client; its grants and tokens are revoked first, so nothing it held works."""
        with self._tx() as conn:
            self._revoke_grants(conn, t.grants.c.client_id == client_id, now)
            conn.execute(
                update(t.tokens).where(t.tokens.c.client_id == client_id).values(revoked_at=now)
            )
            conn.execute(delete(t.consents).where(t.consents.c.client_id == client_id))
            result = conn.execute(delete(t.clients).where(t.clients.c.client_id == client_id))
            return result.rowcount > 0

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
        with self._cursor() as cursor:
            self._execute(cursor, _INSERT_SESSION, values)

    def session(self, id_hash: str, now: float) -> LoginSession | None:
        row = self._first(_SESSION, {"id_hash": id_hash, "now": now})
        if row is None:
            return None
        return LoginSession(row["user_id"], row["auth_time"], row["expires_at"])

    def delete_session(self, id_hash: str) -> None:
        with self._tx() as conn:
            conn.execute(delete(t.login_sessions).where(t.login_sessions.c.id_hash == id_hash))

    # -- consent ------------------------------------------------------------------------------

    def consent(self, user_id: int, client_id: str) -> str | None:
        row = self._fetch(_CONSENT, {"user_id": user_id, "client_id": client_id})
        return None if row is None else str(row[0])

    def save_consent(self, user_id: int, client_id: str, scope: str, now: float) -> None:
        with self._tx() as conn:
            conn.execute(
                delete(t.consents).where(
                    t.consents.c.user_id == user_id, t.consents.c.client_id == client_id
                )
            )
            conn.execute(
                insert(t.consents).values(
                    user_id=user_id, client_id=client_id, scope=scope, granted_at=now
                )
            )

    def consents(self, user_id: int) -> list[Consent]:
        query = (
            select(t.consents, t.clients.c.name)
            .join(t.clients, t.clients.c.client_id == t.consents.c.client_id)
            .where(t.consents.c.user_id == user_id)
            .order_by(t.clients.c.name)
        )
        with self._tx() as conn:
            return [
                Consent(r.client_id, r.name, r.scope, r.granted_at) for r in conn.execute(query)
            ]

    def withdraw_consent(self, user_id: int, client_id: str, now: float) -> int:
        """Forget the consent and revoke every grant (and so every token) the client holds."""
        with self._tx() as conn:
            conn.execute(
                delete(t.consents).where(
                    t.consents.c.user_id == user_id, t.consents.c.client_id == client_id
                )
            )
            return self._revoke_grants(
                conn, (t.grants.c.user_id == user_id) & (t.grants.c.client_id == client_id), now
            )

    # -- authorization requests and codes -----------------------------------------------------

    def save_auth_request(self, request: AuthRequest) -> None:
        with self._cursor() as cursor:
            self._execute(cursor, _INSERT_AUTH_REQUEST, _fields(request))

    def auth_request(self, request_id: str, now: float) -> AuthRequest | None:
        row = self._first(_AUTH_REQUEST, {"request_id": request_id, "now": now})
        return None if row is None else AuthRequest(**row)

    def finish_auth_request(self, request_id: str, code: Code | None) -> bool:
        """Delete the pending request and store its code, once: False if already finished."""
        with self._cursor() as cursor:
            if self._execute(cursor, _DELETE_AUTH_REQUEST, {"b_id": request_id}) == 0:
                return False
            if code is not None:
                self._execute(cursor, _INSERT_CODE, _fields(code))
            return True

    def code(self, code_hash: str) -> Code | None:
        row = self._first(_CODE, {"code_hash": code_hash})
        return None if row is None else Code(**row)

    def claim_code(self, code_hash: str, now: float, grant_id: str) -> bool:
        """Mark the code used; True only for the one caller that did it (RFC 6749 §4.1.2)."""
        params = {"b_code_hash": code_hash, "now": now, "grant": grant_id}
        with self._cursor() as cursor:
            return self._execute(cursor, _CLAIM_CODE, params) == 1

    # -- grants and tokens --------------------------------------------------------------------

    def issue(self, grant: Grant | None, tokens: Sequence[Token]) -> None:
        """Store a new grant (if any) and the tokens issued under it, in one transaction."""
        with self._cursor() as cursor:
            if grant is not None:
                self._execute(cursor, _INSERT_GRANT, _fields(grant))
            if len(tokens) == 1:
                self._execute(cursor, _INSERT_TOKEN, _fields(tokens[0]))
            elif tokens:
                self._insert_many(cursor, _INSERT_TOKEN, [_fields(token) for token in tokens])

    def grant(self, grant_id: str) -> Grant | None:
        row = self._first(_GRANT, {"grant_id": grant_id})
        return None if row is None else Grant(**row)

    def token(self, token_id: str) -> tuple[Token, float | None] | None:
        """The token and its grant's revocation time (None when the grant stands)."""
        values = self._first(_TOKEN, {"token_id": token_id})
        if values is None:
            return None
        grant_revoked = values.pop("grant_revoked_at")
        return Token(**values), grant_revoked

    def claim_refresh_token(self, token_id: str, now: float) -> bool:
        """Mark a refresh token used (rotation); True only for the one caller that did it."""
        with self._cursor() as cursor:
            return self._execute(cursor, _CLAIM_REFRESH, {"b_token_id": token_id, "now": now}) == 1

    def revoke_token(self, token_id: str, now: float) -> None:
        with self._tx() as conn:
            conn.execute(
                update(t.tokens)
                .where(t.tokens.c.id == token_id, t.tokens.c.revoked_at.is_(None))
                .values(revoked_at=now)
            )

    def revoke_grant(self, grant_id: str, now: float) -> int:
        with self._tx() as conn:
            return self._revoke_grants(conn, t.grants.c.id == grant_id, now)

    @staticmethod
    def _revoke_grants(conn: Connection, where: Any, now: float) -> int:
        ids = [r.id for r in conn.execute(select(t.grants.c.id).where(where))]
        if not ids:
            return 0
        conn.execute(
            update(t.grants)
            .where(t.grants.c.id.in_(ids), t.grants.c.revoked_at.is_(None))
            .values(revoked_at=now)
        )
        conn.execute(
            update(t.tokens)
            .where(t.tokens.c.grant_id.in_(ids), t.tokens.c.revoked_at.is_(None))
            .values(revoked_at=now)
        )
        return len(ids)

    # -- flow records -------------------------------------------------------------------------

    def start_flow(self, flow_id: str, client_id: str, now: float) -> None:
        self.save_flow_records([FlowStart(flow_id, client_id, now)])

    def record(
        self, event: FlowEvent, outcome: str | None = None, user_id: int | None = None
    ) -> None:
        self.save_flow_records([FlowUpdate(event, outcome, user_id)])

    def save_flow_records(self, records: Sequence[FlowStart | FlowUpdate]) -> None:
        """New flows and their events, in order, in one transaction."""
        with self._cursor() as cursor:
            for record in records:
                if isinstance(record, FlowStart):
                    self._execute(cursor, _INSERT_FLOW, _flow_row(record))
                else:
                    self._execute(cursor, _INSERT_EVENT, _event_row(record.event))
                    self._execute(cursor, _UPDATE_FLOW, _flow_update(record))

    def flow_events(self, flow_id: str) -> list[FlowEvent]:
        query = (
            select(t.flow_events)
            .where(t.flow_events.c.flow_id == flow_id)
            .order_by(t.flow_events.c.id)
        )
        with self._tx() as conn:
            events = []
            for r in conn.execute(query):
                events.append(
                    FlowEvent(
                        r.flow_id,
                        r.at,
                        r.step,
                        r.sender,
                        r.receiver,
                        r.channel,
                        r.summary,
                        json.loads(r.params),
                        json.loads(r.checks),
                        bool(r.carried_password),
                    )
                )
            return events

    def flows(self, limit: int = 50) -> list[dict[str, Any]]:
        """Newest first, with the username when the flow got as far as a login."""
        query = (
            select(t.flows, t.users.c.username)
            .outerjoin(t.users, t.users.c.id == t.flows.c.user_id)
            .order_by(t.flows.c.started_at.desc())
            .limit(limit)
        )
        with self._tx() as conn:
            return [r._asdict() for r in conn.execute(query)]

    def flow(self, flow_id: str) -> dict[str, Any] | None:
        query = (
            select(t.flows, t.users.c.username)
            .outerjoin(t.users, t.users.c.id == t.flows.c.user_id)
            .where(t.flows.c.id == flow_id)
        )
        with self._tx() as conn:
            row = conn.execute(query).first()
            return None if row is None else row._asdict()

    def prune_flows(self, keep: int, older_than: float) -> int:
        """Keep at most the newest `keep` flows, none started before `older_than`."""
        with self._tx() as conn:
            cutoff = conn.execute(
                select(t.flows.c.started_at)
                .order_by(t.flows.c.started_at.desc())
                .offset(keep)
                .limit(1)
            ).scalar()
            stale = t.flows.c.started_at < older_than
            if cutoff is not None:
                stale = or_(stale, t.flows.c.started_at <= cutoff)
            old = select(t.flows.c.id).where(stale)
            conn.execute(delete(t.flow_events).where(t.flow_events.c.flow_id.in_(old)))
            return conn.execute(delete(t.flows).where(stale)).rowcount

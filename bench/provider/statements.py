"""What valetkey sends to PostgreSQL, counted exactly: per authorization-code + PKCE flow, per
client-credentials token request and per refresh-token request.

    .venv/bin/python bench/provider/statements.py [--flows 50] [--pgbench bench/provider/pgbench]

The sandbox runs in this process (`--lab weak-password-hash`, demo data) on a fresh database
of the local PostgreSQL (tests/support/postgres.py). `Database.connect` is wrapped here, not in
src/, so that every `execute`, and every `commit` or `rollback` that reaches the server, is
recorded with its SQL. Flows go through the HTML login and consent forms (bench/provider/
flows.py), one at a time; consent is given in the warm-up, so the measured flows are the
steady state. Store calls made on a timer or every Nth flow (`PERIODIC`) are counted apart.
The server's own counters (pg_stat_database, pg_stat_wal) over each measured phase are the
cross-check. Writes bench/results/statements-YYYYMMDD.{json,md}; `--pgbench DIR` also writes
DIR/flow.sql and DIR/token.sql (pgbench scripts of the same statements, see pg_ceiling.py).
"""

from __future__ import annotations

import argparse
import base64
import collections
import datetime
import re
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any
from unittest.mock import patch

import httpx

BENCH = Path(__file__).resolve().parent
sys.path[:0] = [str(BENCH), str(BENCH.parents[1])]  # flows.py, calls.py; tests.support

from calls import BODY, CLIENT, SECRET, _register  # noqa: E402
from flows import FlowCounts, FlowTarget, one_flow  # noqa: E402
from report import markdown_table, write_json  # noqa: E402

from valetkey.provider.store.driver import Database  # noqa: E402

WRITES = ("INSERT", "UPDATE", "DELETE", "WITH")
# WITH: writes sent together as one statement (src/valetkey/provider/store/write_behind.py)
KINDS = ("SELECT", "INSERT", "UPDATE", "DELETE", "WITH", "BEGIN", "COMMIT", "ROLLBACK")
# the statement each request starts with on a shared database (Store.request_state): a read
# that also takes the path's injected fault, so it changes a row only when one is injected
REQUEST_STATE = "WITH fault AS"
ROW_WRITES = {
    # a row of an INSERT: its VALUES tuple (a multi-row INSERT has one per row, write_behind.py)
    "inserts": re.compile(r"\bINSERT INTO\b|\), \((?=%\()"),
    "updates": re.compile(r"\bUPDATE \w+ SET\b"),
    "deletes": re.compile(r"\bDELETE FROM\b"),
}
# store calls made on a timer or every Nth flow, not by every request (core.py, flows.py)
PERIODIC = ("keys_version", "prune_expired", "prune_flows", "count_auth_requests")
WARMUP = 5  # flows (the first gives consent), token requests and refresh requests
REDIRECT_URI = "http://127.0.0.1:8500/callback"
SCOPE = "openid profile photos.read"
SETTLE_S = 1.2  # a backend reports its statistics at most once a second (PostgreSQL 15)


@dataclass(frozen=True)
class Sent:
    """One message to the server: a statement, or the commit/rollback of a transaction."""

    conn: int
    kind: str
    sql: str
    params: dict[str, Any]
    item: int  # which flow or token request of the phase
    request: str  # "POST /token": the HTTP request being served
    periodic: bool


@dataclass
class Recorder:
    on: bool = False
    item: int = 0
    request: str = ""
    sent: list[Sent] = field(default_factory=list)
    raw: list[Any] = field(default_factory=list)  # every PostgreSQL connection opened
    lock: threading.Lock = field(default_factory=threading.Lock)
    local: threading.local = field(default_factory=threading.local)

    def add(self, conn: int, sql: str, params: Any) -> None:
        if not self.on:
            return
        kind = sql.split(None, 1)[0].upper() if sql.strip() else ""
        if sql.startswith(REQUEST_STATE):
            kind = "SELECT"
        shown = dict(params) if isinstance(params, dict) else {}
        periodic = bool(getattr(self.local, "periodic", 0))
        with self.lock:
            self.sent.append(Sent(conn, kind, sql, shown, self.item, self.request, periodic))

    @contextmanager
    def periodic_call(self) -> Iterator[None]:
        self.local.periodic = getattr(self.local, "periodic", 0) + 1
        try:
            yield
        finally:
            self.local.periodic -= 1


class RecordingCursor:
    def __init__(self, cursor: Any, recorder: Recorder, conn: int) -> None:
        self._cursor, self._recorder, self._conn = cursor, recorder, conn

    def execute(self, sql: str, *args: Any, **kwargs: Any) -> Any:
        self._recorder.add(self._conn, sql, args[0] if args else kwargs.get("params"))
        return self._cursor.execute(sql, *args, **kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._cursor, name)

    def __enter__(self) -> RecordingCursor:
        return self

    def __exit__(self, *exc: object) -> None:
        self._cursor.close()


class RecordingConnection:
    """A psycopg connection whose cursors, commits and rollbacks are recorded; a commit or a
    rollback counts only when it reaches the server (autocommit without BEGIN sends none)."""

    def __init__(self, conn: Any, recorder: Recorder) -> None:
        self._conn, self._recorder = conn, recorder

    def cursor(self, *args: Any, **kwargs: Any) -> RecordingCursor:
        return RecordingCursor(self._conn.cursor(*args, **kwargs), self._recorder, id(self))

    def commit(self) -> None:
        self._end("COMMIT")
        self._conn.commit()

    def rollback(self) -> None:
        self._end("ROLLBACK")
        self._conn.rollback()

    def _end(self, word: str) -> None:
        from psycopg.pq import TransactionStatus

        if self._conn.info.transaction_status != TransactionStatus.IDLE:
            self._recorder.add(id(self), word, None)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._conn, name)


@contextmanager
def recording(recorder: Recorder) -> Iterator[None]:
    """Every connection `Database.connect` opens from here on is a recording one."""
    original = Database.connect

    def connect(database: Database) -> Any:
        conn = original(database)
        if database.dialect != "postgresql":
            return conn
        recorder.raw.append(conn)
        return RecordingConnection(conn, recorder)

    with patch.object(Database, "connect", connect):
        yield


@dataclass
class Sandbox:
    url: str
    target: FlowTarget
    recorder: Recorder
    db: str


def _tag_periodic(store: Any, recorder: Recorder) -> None:
    for name in PERIODIC:
        method = getattr(store, name)

        def tagged(*args: Any, _method: Callable[..., Any] = method, **kwargs: Any) -> Any:
            with recorder.periodic_call():
                return _method(*args, **kwargs)

        setattr(store, name, tagged)


@contextmanager
def sandbox(db: str) -> Iterator[Sandbox]:
    """The sandbox in this process on `db`, with the demo data and the CC client."""
    from tests.support.asgi_server import AsgiServer

    from valetkey.client.server import free_socket
    from valetkey.provider.app import create_app
    from valetkey.provider.core import Provider
    from valetkey.provider.demo_data import seed
    from valetkey.provider.settings import build_settings
    from valetkey.provider.store.open import open_store

    _register(db)
    data_dir = tempfile.mkdtemp(prefix="vk-statements-")
    overrides = {"db": db, "lab": "weak-password-hash", "data_dir": data_dir}
    sock = free_socket()
    settings = build_settings(overrides, environ={}).with_port(sock.getsockname()[1])
    recorder = Recorder()
    with recording(recorder):
        store = open_store(settings)
        _tag_periodic(store, recorder)  # before the provider keeps any of these methods
        provider = Provider(settings, store)
        creds = seed(store, provider.passwords, time.time())
        if creds is None:
            raise SystemExit("the database already had users; statements.py needs a fresh one")
        server = AsgiServer(create_app(provider), sock).start()
        fill = {"username": "alice", "password": creds.passwords["alice"], "decision": "allow"}
        target = FlowTarget(
            server.url + "/authorize",
            server.url + "/token",
            "photo-printer",
            creds.client_secret,
            REDIRECT_URI,
            SCOPE,
            fill,
        )
        try:
            yield Sandbox(server.url, target, recorder, db)
        finally:
            server.stop()
            store.close()
            for conn in recorder.raw:
                conn.close()


# -- driving ----------------------------------------------------------------------------------


def _client(box: Sandbox) -> httpx.Client:
    def tag(request: httpx.Request) -> None:
        box.recorder.request = f"{request.method} {request.url.path}"

    return httpx.Client(trust_env=False, timeout=30, event_hooks={"request": [tag]})


def _cc_token(http: httpx.Client, box: Sandbox) -> None:
    basic = base64.b64encode(f"{CLIENT}:{SECRET}".encode()).decode()
    headers = {
        "authorization": f"Basic {basic}",
        "content-type": "application/x-www-form-urlencoded",
    }
    answer = http.post(box.url + "/token", content=BODY, headers=headers)
    if answer.status_code != 200:
        raise SystemExit(f"token request failed: {answer.status_code} {answer.text[:200]}")


def _refresh(http: httpx.Client, box: Sandbox, token: str) -> str:
    body = {"grant_type": "refresh_token", "refresh_token": token}
    auth = httpx.BasicAuth(box.target.client_id, box.target.client_secret)
    answer = http.post(box.url + "/token", data=body, auth=auth)
    if answer.status_code != 200:
        raise SystemExit(f"refresh request failed: {answer.status_code} {answer.text[:200]}")
    return str(answer.json()["refresh_token"])


def _refresh_token(http: httpx.Client, box: Sandbox) -> str:
    """A refresh token from one complete flow that asks for offline_access."""
    scope = box.target.scope + " offline_access"
    target = FlowTarget(**{**asdict(box.target), "scope": scope})
    return str(one_flow(http, target, FlowCounts())["refresh_token"])


def phase_actions(http: httpx.Client, box: Sandbox) -> dict[str, Callable[[], None]]:
    """One action per phase: a complete flow, a CC token request, a refresh request (each
    with the refresh token the one before returned: rotation)."""
    refresh = {"token": _refresh_token(http, box)}

    def rotate() -> None:
        refresh["token"] = _refresh(http, box, refresh["token"])

    def flow() -> None:
        one_flow(http, box.target, FlowCounts())

    return {
        "flow": flow,
        "token": lambda: _cc_token(http, box),
        "refresh": rotate,
    }


# -- the server's own counters ----------------------------------------------------------------

STAT_SQL = (
    "SELECT xact_commit, xact_rollback, tup_returned, tup_fetched, tup_inserted, tup_updated,"
    " tup_deleted FROM pg_stat_database WHERE datname = %s"
)
STAT_NAMES = (
    "xact_commit",
    "xact_rollback",
    "tup_returned",
    "tup_fetched",
    "tup_inserted",
    "tup_updated",
    "tup_deleted",
)


def server_counters(box: Sandbox) -> dict[str, int]:
    """pg_stat_database for the sandbox's database and the cluster's pg_stat_wal, after every
    sandbox connection reported its statistics (read from the admin database, so that the
    reading adds nothing to the sandbox database's counters)."""
    import psycopg
    from tests.support.postgres import ADMIN_URL

    time.sleep(SETTLE_S)
    for conn in box.recorder.raw:  # a transaction end makes a backend report (1 s apart)
        if not conn.closed:
            conn.execute("SELECT 1")
    time.sleep(0.2)
    name = box.db.rsplit("/", 1)[1]
    with psycopg.connect(ADMIN_URL, autocommit=True) as admin:
        row = admin.execute(STAT_SQL, (name,)).fetchone()
        wal = admin.execute("SELECT wal_records, wal_bytes FROM pg_stat_wal").fetchone()
    if row is None or wal is None:
        raise SystemExit(f"no statistics for {name}")
    found = dict(zip(STAT_NAMES, (int(v) for v in row), strict=True))
    found.update(wal_records=int(wal[0]), wal_bytes=int(wal[1]))
    found["probes"] = sum(1 for conn in box.recorder.raw if not conn.closed)
    return found


def counter_delta(before: dict[str, int], after: dict[str, int]) -> dict[str, int]:
    delta = {k: after[k] - before[k] for k in before if k != "probes"}
    delta["xact_commit"] -= after["probes"]  # the SELECT 1 that made each backend report
    return delta


# -- counting -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Transactions:
    committed: int  # BEGIN ... COMMIT
    written: int  # of those, with a write
    autocommit: int  # statements outside BEGIN ... COMMIT: one transaction each
    autocommit_writes: int


def transactions(sent: Sequence[Sent]) -> Transactions:
    """The transactions the server ran: xact_commit counts every one; each with a write is
    made durable at its commit (a WAL flush)."""
    committed = written = autocommit = autocommit_writes = 0
    open_: dict[int, bool] = {}  # connection -> a write since BEGIN
    for s in sent:
        if s.kind == "BEGIN":
            open_[s.conn] = False
        elif s.kind in ("COMMIT", "ROLLBACK"):
            wrote = open_.pop(s.conn, False)
            committed += s.kind == "COMMIT"
            written += s.kind == "COMMIT" and wrote
        elif s.conn in open_:
            open_[s.conn] = open_[s.conn] or s.kind in WRITES
        else:
            autocommit += 1
            autocommit_writes += s.kind in WRITES
    return Transactions(committed, written, autocommit, autocommit_writes)


def item_counts(sent: Sequence[Sent]) -> dict[str, int]:
    kinds = collections.Counter(s.kind for s in sent)
    t = transactions(sent)
    counts = {"round_trips": len(sent), **{k: kinds.get(k, 0) for k in KINDS}}
    counts["other"] = len(sent) - sum(kinds.get(k, 0) for k in KINDS)
    for name, pattern in ROW_WRITES.items():  # each write, or row inserted, changes one row
        counts[name] = sum(len(pattern.findall(s.sql)) for s in sent if s.kind in WRITES)
    counts["transactions"] = t.committed + t.autocommit
    counts["write_transactions"] = t.written + t.autocommit_writes
    counts["autocommit_writes"] = t.autocommit_writes
    return counts


@dataclass
class Phase:
    name: str
    items: int
    per_item: dict[str, float]
    same_every_time: bool  # every item sent exactly the same counts
    statements: dict[str, float]  # distinct SQL text -> times per item
    periodic: dict[str, int]  # distinct SQL text -> times in the whole phase
    server: dict[str, float]  # pg_stat deltas per item
    by_request: dict[str, float]  # HTTP request -> round trips per item


def by_item(sent: Sequence[Sent]) -> dict[int, list[Sent]]:
    items: dict[int, list[Sent]] = collections.defaultdict(list)
    for s in sent:
        items[s.item].append(s)
    return items


def summarize(name: str, n: int, sent: list[Sent], server: dict[str, int]) -> Phase:
    steady = [s for s in sent if not s.periodic]
    counts = [item_counts(group) for group in by_item(steady).values()]
    keys = counts[0].keys() if counts else ()
    total = {k: sum(c[k] for c in counts) / n for k in keys}
    texts = collections.Counter(s.sql for s in steady)
    requests = collections.Counter(s.request for s in steady)
    return Phase(
        name=name,
        items=n,
        per_item=total,
        same_every_time=len(counts) == n and all(c == counts[0] for c in counts),
        statements={t: c / n for t, c in texts.items()},
        periodic=dict(collections.Counter(s.sql for s in sent if s.periodic)),
        server={k: v / n for k, v in server.items()},
        by_request={r: c / n for r, c in requests.items()},
    )


@dataclass
class Run:
    phases: list[Phase]
    samples: dict[str, tuple[list[Sent], list[Sent]]]  # two measured items per phase
    secrets: tuple[str, ...] = ()  # the demo password and client secret: never written out


def measure(db: str, n: int, server_stats: bool = True) -> Run:
    """Warm up, then `n` of each phase's action, counted; the server's counters per phase."""
    phases, samples = [], {}
    with sandbox(db) as box, _client(box) as http:
        actions = phase_actions(http, box)
        for name, action in actions.items():
            for _ in range(WARMUP):
                action()
            before = server_counters(box) if server_stats else {}
            box.recorder.sent, box.recorder.on = [], True
            for i in range(n):
                box.recorder.item = i
                action()
            box.recorder.on = False
            sent = box.recorder.sent
            delta = counter_delta(before, server_counters(box)) if server_stats else {}
            phases.append(summarize(name, n, sent, delta))
            groups = by_item([s for s in sent if not s.periodic])
            samples[name] = (groups[n - 2], groups[n - 1])
        secrets = (box.target.fill["password"], box.target.client_secret, SECRET)
    return Run(phases, samples, secrets)


# -- the flow's statements: shapes for people, a pgbench script for the server --------------

PARAM = re.compile(r"%\((\w+)\)s")
OPAQUE = re.compile(r"^[A-Za-z0-9_\-+/=.]{20,}$")  # an id, a hash or a token: never shown


def shape(value: Any, varies: bool) -> str:
    if value is None or isinstance(value, bool):
        return repr(value)
    if isinstance(value, int):
        return f"int {value}" if not varies else "int, new each time"
    if isinstance(value, float):
        return "float (a time)"
    text = str(value)
    kind = "hex" if re.fullmatch(r"[0-9a-f]+", text) else "text"
    return f"{kind}[{len(text)}]" + (", new each time" if varies else ", same each time")


def dump(a: list[Sent], b: list[Sent]) -> list[str]:
    """The statements of one item in order, each parameter as its shape (never its value)."""
    lines = []
    for sa, sb in zip(a, b, strict=True):
        params = ", ".join(
            f"{k}: {shape(v, v != sb.params.get(k))}" for k, v in sorted(sa.params.items())
        )
        lines.append(f"- `{sa.request}` {sa.sql}" + (f"  \n  ({params})" if params else ""))
    return lines


def _literal(value: Any) -> str:
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int | float):
        return repr(value)
    text = str(value).replace("\\", "\\005C").replace(":", "\\003A").replace("'", "''")
    return f"U&'{text}'"  # no ':' left for pgbench to take for a variable


def _fresh(index: int, length: int) -> str:
    """A value new in each script run, as long as the one recorded."""
    md5 = f"md5(CAST(:k AS TEXT) || '-{index}')"
    return f"rpad({md5}, {length}, {md5})"


def pgbench_script(a: list[Sent], b: list[Sent], title: str) -> str:
    """The statements of one item as a pgbench script: parameters that were the same in two
    items are literals (times are the recorded ones); those that differed are new per run
    (derived from the random :k), the same value wherever the item used the same value."""
    fresh: dict[str, int] = {}
    out = [
        f"-- {title}: generated by bench/provider/statements.py --pgbench; do not edit.",
        "-- The statements, transactions and autocommit pattern valetkey sent for one of them.",
        r"\set k random(1, 9000000000000000)",
    ]
    for sa, sb in zip(a, b, strict=True):
        if sa.request != sb.request or sa.sql != sb.sql:
            raise SystemExit(f"two {title} sent different statements: {sa.sql} / {sb.sql}")

        def value(match: re.Match[str], sa: Sent = sa, sb: Sent = sb) -> str:
            v = sa.params[match.group(1)]
            if isinstance(v, str) and (v != sb.params[match.group(1)] or OPAQUE.match(v)):
                return _fresh(fresh.setdefault(v, len(fresh)), len(v))
            return _literal(v)

        out.append(PARAM.sub(value, sa.sql).replace("%%", "%") + ";")
    return "\n".join(out) + "\n"


# -- output ---------------------------------------------------------------------------------------

COLUMNS = (
    "round_trips",
    *KINDS,
    *ROW_WRITES,
    "transactions",
    "write_transactions",
    "autocommit_writes",
)
SERVER = (
    "xact_commit",
    "tup_inserted",
    "tup_updated",
    "tup_deleted",
    "tup_returned",
    "tup_fetched",
    "wal_records",
    "wal_bytes",
)


def tables(run: Run) -> str:
    rows = [
        [p.name, *(f"{p.per_item[c]:g}" for c in COLUMNS), "yes" if p.same_every_time else "NO"]
        for p in run.phases
    ]
    out = [markdown_table(["per", *COLUMNS, "same each time"], rows), ""]
    if run.phases and run.phases[0].server:
        rows = [[p.name, *(f"{p.server[c]:.2f}" for c in SERVER)] for p in run.phases]
        out += [markdown_table(["per (server counters)", *SERVER], rows), ""]
    for p in run.phases:
        rows = [[f"`{t}`", f"{c:g}"] for t, c in p.statements.items()]
        out += [f"Statements per {p.name}:", "", markdown_table(["SQL", "times"], rows), ""]
        periodic = ", ".join(f"`{t}` x{c}" for t, c in p.periodic.items()) or "none"
        out += [f"Periodic statements during the {p.items} measured: {periodic}", ""]
    return "\n".join(out)


def write_results(run: Run, command: str, results: Path) -> Path:
    stamp = datetime.datetime.now(datetime.UTC).strftime("%Y%m%d")
    md = results / f"statements-{stamp}.md"
    data = {"command": command, "phases": [asdict(p) for p in run.phases]}
    write_json(results / f"statements-{stamp}.json", data)
    a, b = run.samples["flow"]
    body = [f"Command: `{command}`", "", tables(run), "One flow's statements, in order:", ""]
    md.write_text("\n".join([*body, *dump(a, b), ""]))
    return md


def write_pgbench(run: Run, folder: Path) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name, title in (("flow", "one authorization-code flow"), ("token", "one CC token")):
        path = folder / f"{name}.sql"
        path.write_text(pgbench_script(*run.samples[name], title))
        written.append(path)
    return written


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--flows", type=int, default=50, help="measured items per phase")
    p.add_argument("--pgbench", type=Path, default=None, help="write flow.sql, token.sql here")
    p.add_argument("--results", type=Path, default=BENCH.parent / "results")
    a = p.parse_args(argv)
    if a.flows < 2:
        p.error("--flows must be at least 2")
    from tests.support.postgres import fresh_database

    with fresh_database() as db:
        run = measure(db, a.flows)
    command = " ".join(["bench/provider/statements.py", *(argv or sys.argv[1:])])
    print(tables(run))
    print(f"wrote {write_results(run, command, a.results)}")
    if a.pgbench:
        for path in write_pgbench(run, a.pgbench):
            print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

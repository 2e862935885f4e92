"""The local PostgreSQL's ceiling for exactly valetkey's statements: pgbench runs the scripts
statements.py generated (bench/provider/pgbench/flow.sql: one authorization-code flow per
pgbench transaction; token.sql: one client-credentials token request), so transactions/s
here are flows/s (token requests/s) that the database alone can serve.

    .venv/bin/python bench/provider/statements.py --pgbench bench/provider/pgbench
    .venv/bin/python bench/provider/pg_ceiling.py [--clients 1,8,16,32] [--seconds 10]

The database is a fresh one, set up as statements.py's (migrated, demo data, the CC client,
consent given in a warm-up flow) so that every lookup in the scripts finds its row. pgbench
runs with -j 2 -M prepared at each client count, once with -M simple at 16 clients, and once
flow.sql without the inspector's flow records (flows, flow_events) at 16 clients: what a flow
costs the database when they are kept elsewhere. Each run starts after a VACUUM ANALYZE, the
first after a few seconds of unmeasured runs of both scripts (WARMUP_S). Every run commits
as `valetkey serve --durability app-crash` does (synchronous_commit=off, set for pgbench's
sessions through PGOPTIONS); both scripts run once more at 16 clients with
synchronous_commit=on, the power-loss class (valetkey's default on PostgreSQL).
pgbench and PostgreSQL share this machine's cores: the figures are a floor for a database
on a machine of its own, and only their ratios travel to another machine.
Writes bench/results/pg-ceiling-YYYYMMDD.{json,md}.
"""

from __future__ import annotations

import argparse
import datetime
import os
import re
import shutil
import subprocess
import sys
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path

from report import markdown_table, write_json
from statements import BENCH, phase_actions, sandbox
from statements import _client as sandbox_client

SCRIPTS = {"flow": BENCH / "pgbench" / "flow.sql", "token": BENCH / "pgbench" / "token.sql"}
TPS = re.compile(r"^tps = ([0-9.]+) \(without initial connection time\)", re.M)
LATENCY = re.compile(r"^latency average = ([0-9.]+) ms", re.M)
FAILED = re.compile(r"^number of failed transactions: (\d+)", re.M)
SIMPLE_AT = 16
# unmeasured runs first: analyzed while (nearly) empty, the tables got plans that scan them,
# and pgbench's prepared statements kept those plans while the tables grew (1 client: 3x
# slower than on tables analyzed with a few thousand rows)
WARMUP_S = 3
# the inspector's flow records: what a flow would no longer write if they went elsewhere
FLOW_RECORDS = re.compile(r"^(INSERT INTO flows|INSERT INTO flow_events|UPDATE flows) ")


@dataclass(frozen=True)
class Result:
    script: str
    mode: str
    clients: int
    tps: float
    latency_ms: float
    failed: int
    durability: str = "app-crash"


# what each of valetkey's durability classes sets (src/valetkey/provider/store/driver.py)
SYNCHRONOUS_COMMIT = {"app-crash": "off", "power-loss": "on"}


def pgbench(
    db: str, script: Path, clients: int, mode: str, seconds: int, durability: str = "app-crash"
) -> Result:
    exe = shutil.which("pgbench")
    if exe is None:
        raise SystemExit("pgbench not found (apt-get install postgresql-client)")
    host_db = db.split("://", 1)[1]
    host, name = host_db.split("/", 1)
    hostname, _, port = host.rpartition("@")[2].partition(":")
    argv = [exe, "-n", "-h", hostname, "-p", port or "5432", "-f", str(script)]
    argv += ["-c", str(clients), "-j", "2", "-T", str(seconds), "-M", mode, name]
    env = {**os.environ, "PGOPTIONS": f"-c synchronous_commit={SYNCHRONOUS_COMMIT[durability]}"}
    done = subprocess.run(argv, capture_output=True, text=True, env=env, check=False)
    out = done.stdout + done.stderr
    tps, latency = TPS.search(out), LATENCY.search(out)
    if done.returncode != 0 or tps is None or latency is None:
        raise SystemExit(f"pgbench failed ({done.returncode}):\n{out[-2000:]}")
    failed = FAILED.search(out)
    return Result(
        script.stem,
        mode,
        clients,
        float(tps.group(1)),
        float(latency.group(1)),
        int(failed.group(1)) if failed else 0,
        durability,
    )


def without_flow_records(script: Path, folder: Path) -> Path:
    """flow.sql without its statements on the flows and flow_events tables."""
    kept = [line for line in script.read_text().splitlines() if not FLOW_RECORDS.match(line)]
    path = folder / "flow-without-flow-records.sql"
    path.write_text("\n".join(kept) + "\n")
    return path


def vacuum(db: str) -> None:
    """Each run starts alike: the dead rows of the runs before are gone (autovacuum may be
    off, as on the machine of the first measurements)."""
    import psycopg

    with psycopg.connect(db, autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE")


def setting(db: str, name: str) -> str:
    import psycopg

    with psycopg.connect(db, autocommit=True) as conn:
        row = conn.execute("SELECT setting FROM pg_settings WHERE name = %s", (name,)).fetchone()
    return str(row[0]) if row else ""


def prepare(db: str) -> None:
    """The schema, demo data, CC client and consent, as statements.py makes them."""
    with sandbox(db) as box, sandbox_client(box) as http:
        phase_actions(http, box)["flow"]()


LEFT_OVER = {  # each must be 0 after the flow runs: every lookup found the row it was for
    "auth requests not finished": "SELECT count(*) FROM auth_requests",
    "codes not redeemed": "SELECT count(*) FROM codes WHERE used_at IS NULL",
    "codes without their grant": "SELECT count(*) FROM codes"
    " WHERE grant_id NOT IN (SELECT id FROM grants)",
    "flows not completed": "SELECT count(*) FROM flows WHERE outcome <> 'completed'",
}


def left_over(db: str) -> dict[str, int]:
    import psycopg

    with psycopg.connect(db, autocommit=True) as conn:
        found = {name: conn.execute(sql).fetchone() for name, sql in LEFT_OVER.items()}
    return {name: int(row[0]) if row else -1 for name, row in found.items()}


def runs(clients: list[int]) -> list[tuple[str, int, str, str]]:
    plan = [(name, c, "prepared", "app-crash") for name in SCRIPTS for c in clients]
    plan += [(name, SIMPLE_AT, "simple", "app-crash") for name in SCRIPTS]
    plan += [(name, SIMPLE_AT, "prepared", "power-loss") for name in SCRIPTS]
    return [*plan, ("flow-without-flow-records", SIMPLE_AT, "prepared", "app-crash")]


def table(results: list[Result]) -> str:
    rows = [
        [
            r.script,
            r.durability,
            r.mode,
            str(r.clients),
            f"{r.tps:,.0f}",
            f"{r.latency_ms:.2f}",
            f"{r.failed}",
        ]
        for r in results
    ]
    header = ["script", "durability", "-M", "-c", "transactions/s", "latency ms", "failed"]
    return markdown_table(header, rows)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--clients", default="1,8,16,32")
    p.add_argument("--seconds", type=int, default=10)
    p.add_argument("--results", type=Path, default=BENCH.parent / "results")
    a = p.parse_args(argv)
    missing = [str(path) for path in SCRIPTS.values() if not path.exists()]
    if missing:
        raise SystemExit(f"missing {missing}: run statements.py --pgbench first")
    from tests.support.postgres import fresh_database

    clients = [int(c) for c in a.clients.split(",")]
    results = []
    scripts = {**SCRIPTS}
    with tempfile.TemporaryDirectory() as tmp, fresh_database() as db:
        scripts["flow-without-flow-records"] = without_flow_records(SCRIPTS["flow"], Path(tmp))
        prepare(db)
        autovacuum = setting(db, "autovacuum")
        for name in SCRIPTS:  # tables with rows before the first VACUUM ANALYZE (see WARMUP_S)
            pgbench(db, SCRIPTS[name], 8, "prepared", WARMUP_S)
        for name, c, mode, durability in runs(clients):
            vacuum(db)
            results.append(pgbench(db, scripts[name], c, mode, a.seconds, durability))
            print(table(results[-1:]).splitlines()[-1], flush=True)
        checks = left_over(db)
    if any(checks.values()):
        raise SystemExit(f"the scripts' lookups missed their rows: {checks}")
    command = " ".join(["bench/provider/pg_ceiling.py", *(argv or sys.argv[1:])])
    uptime = subprocess.run(["uptime"], capture_output=True, text=True, check=False).stdout
    stamp = datetime.datetime.now(datetime.UTC).strftime("%Y%m%d")
    data: dict[str, object] = {"command": command, "cpus": os.cpu_count()}
    data.update(uptime_after=uptime.strip(), left_over=checks, autovacuum=autovacuum)
    write_json(
        a.results / f"pg-ceiling-{stamp}.json", {**data, "runs": [asdict(r) for r in results]}
    )
    md = a.results / f"pg-ceiling-{stamp}.md"
    head = f"Command: `{command}` ({os.cpu_count()} cores, autovacuum {autovacuum})"
    md.write_text(f"{head}\n\n{table(results)}\n")
    print(table(results))
    print(f"wrote {md}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

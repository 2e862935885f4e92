"""Client CPU per statement of the two drivers the store uses, alone: psycopg 3 against the
local PostgreSQL (127.0.0.1) and sqlite3 on a file, the same indexed one-row SELECT, a new
cursor per statement as the store takes one.

    .venv/bin/python bench/provider/driver_cost.py [--statements 3000]

What it shows is the floor of what a round trip to PostgreSQL costs the store workers in
Python, next to SQLite's; in a running sandbox the threads' hand-overs while they wait come
on top.
"""

from __future__ import annotations

import argparse
import resource
import sqlite3
import tempfile
from collections.abc import Callable
from pathlib import Path

import psycopg

PG = "host=127.0.0.1 dbname=test"
SQL = "SELECT v FROM t WHERE k = {param}"


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def per_statement(run: Callable[[], object], statements: int) -> float:
    for _ in range(200):  # warm up (psycopg prepares from the fifth execution)
        run()
    start = _cpu()
    for _ in range(statements):
        run()
    return 1e6 * (_cpu() - start) / statements


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--statements", type=int, default=3000)
    args = parser.parse_args()
    with psycopg.connect(PG, autocommit=True) as pg:
        pg.execute("CREATE TEMP TABLE t (k text PRIMARY KEY, v text)")
        pg.execute("INSERT INTO t VALUES ('a', 'b')")
        pg_sql = SQL.format(param="%(k)s")

        def pg_select() -> object:
            with pg.cursor() as cursor:
                cursor.execute(pg_sql, {"k": "a"})
                return cursor.fetchone()

        pg_us = per_statement(pg_select, args.statements)
    with tempfile.TemporaryDirectory() as tmp:
        lite = sqlite3.connect(Path(tmp) / "t.db")
        lite.execute("CREATE TABLE t (k text PRIMARY KEY, v text)")
        lite.execute("INSERT INTO t VALUES ('a', 'b')")
        lite.commit()
        lite_sql = SQL.format(param=":k")

        def lite_select() -> object:
            cursor = lite.cursor()
            cursor.execute(lite_sql, {"k": "a"})
            row = cursor.fetchone()
            cursor.close()
            return row

        lite_us = per_statement(lite_select, args.statements)
        lite.close()
    print(f"psycopg {psycopg.__version__} ({psycopg.pq.__impl__}): {pg_us:.1f} µs CPU per SELECT")
    print(f"sqlite3 {sqlite3.sqlite_version}: {lite_us:.1f} µs CPU per SELECT")
    print(f"psycopg / sqlite3: {pg_us / lite_us:.1f}x")


if __name__ == "__main__":
    main()

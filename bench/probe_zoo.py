"""The probe zoo's per-check table: `valetkey probe client` on every app in
tests/probe_targets/, against sandboxes in probe mode started here.

    .venv/bin/python -m bench.probe_zoo            # table, per-app time, exact-match count

Per check: how many apps fail it, pass it, are n/a or broke; per app: the time the probe
took and whether its result is exactly its labelled flaws."""

from __future__ import annotations

import tempfile
from pathlib import Path

from tests.probe_targets import zoo

CHECKS = [f"LC-{n:02d}" for n in range(1, 21)]


def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        sandboxes = zoo.start_sandboxes(Path(folder))
        try:
            runs = {name: zoo.probe(zoo.load(name), sandboxes) for name in zoo.APPS}
        finally:
            sandboxes.strict.stop()
            sandboxes.no_pkce.stop()
    print(f"{'check':6} {'fail':>4} {'pass':>4} {'n/a':>4} {'error':>5}")
    for check in CHECKS:
        counts = [
            sum(1 for r in runs.values() if r.status_of(check) == s)
            for s in ("fail", "pass", "n/a", "error")
        ]
        print(f"{check:6} {counts[0]:4} {counts[1]:4} {counts[2]:4} {counts[3]:5}")
    print()
    exact = 0
    for name, run in runs.items():
        failing = {r.id for r in run.results if r.status == "fail"}
        ok = failing == zoo.load(name).fails and not run.notes
        exact += ok
        print(
            f"{name:24} {run.seconds:5.1f} s  {'exact' if ok else 'DIFFERS'}  "
            f"{' '.join(sorted(failing)) or '-'}"
        )
    times = sorted(r.seconds for r in runs.values())
    print(
        f"\n{exact}/{len(runs)} apps exactly their labels; probe time per app "
        f"median {times[len(times) // 2]:.1f} s, max {times[-1]:.1f} s"
    )


if __name__ == "__main__":
    main()

"""The probe zoo's per-check table: `valetkey probe client` on every app in
tests/probe_targets/, against sandboxes in probe mode started here.

    .venv/bin/python -m bench.probe_zoo            # table, time per app, exact-match count
    .venv/bin/python -m bench.probe_zoo --runs 3   # each app probed 3 times: median, range
    .venv/bin/python -m bench.probe_zoo --json results.json

Per check: how many apps fail it, pass it, are n/a or broke (from each app's first run); per
app: the probe's time (the median and the range over the runs), and whether its result is
exactly its labelled flaws and unjudged checks; last, the slowest checks summed over the zoo.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
from pathlib import Path
from typing import Any

from tests.probe_targets import zoo

from valetkey.probe.report import Run

CHECKS = [f"LC-{n:02d}" for n in range(1, 21)]


def probe_all(runs: int) -> dict[str, list[Run]]:
    with tempfile.TemporaryDirectory() as folder:
        sandboxes = zoo.start_sandboxes(Path(folder))
        try:
            return {
                name: [zoo.probe(zoo.load(name), sandboxes) for _ in range(runs)]
                for name in zoo.APPS
            }
        finally:
            sandboxes.stop()


def exactly_labelled(name: str, run: Run) -> bool:
    app = zoo.load(name)
    failing = {r.id for r in run.results if r.status == "fail"}
    unjudged = {r.id for r in run.results if r.status == "n/a"}
    errors = any(r.status == "error" for r in run.results)
    return (failing, unjudged) == (app.fails, app.not_judged) and not run.notes and not errors


def table(first: dict[str, Run]) -> list[str]:
    lines = [f"{'check':6} {'fail':>4} {'pass':>4} {'n/a':>4} {'error':>5}"]
    for check in CHECKS:
        counts = [
            sum(1 for r in first.values() if r.status_of(check) == s)
            for s in ("fail", "pass", "n/a", "error")
        ]
        lines.append(f"{check:6} {counts[0]:4} {counts[1]:4} {counts[2]:4} {counts[3]:5}")
    return lines


def per_app(runs: dict[str, list[Run]]) -> list[str]:
    lines = []
    for name, done in runs.items():
        times = [r.seconds for r in done]
        exact = all(exactly_labelled(name, r) for r in done)
        failing = sorted(r.id for r in done[0].results if r.status == "fail")
        lines.append(
            f"{name:26} {statistics.median(times):5.1f} s  ({min(times):4.1f}-{max(times):4.1f})"
            f"  {'exact' if exact else 'DIFFERS'}  {' '.join(failing) or '-'}"
        )
    return lines


def slowest_checks(runs: dict[str, list[Run]], count: int = 5) -> list[str]:
    total = dict.fromkeys(CHECKS, 0.0)
    for done in runs.values():
        for run in done:
            for result in run.results:
                total[result.id] += result.seconds / len(done)
    ranked = sorted(total.items(), key=lambda item: -item[1])[:count]
    return [f"{check} {seconds:5.1f} s over the zoo" for check, seconds in ranked]


def summary(runs: dict[str, list[Run]]) -> dict[str, Any]:
    medians = sorted(statistics.median(r.seconds for r in done) for done in runs.values())
    exact = sum(all(exactly_labelled(n, r) for r in done) for n, done in runs.items())
    return {
        "apps": len(runs),
        "runs_per_app": len(next(iter(runs.values()))),
        "exact": exact,
        "median_s": round(statistics.median(medians), 2),
        "min_s": round(medians[0], 2),
        "max_s": round(medians[-1], 2),
        "per_app_s": {n: [round(r.seconds, 2) for r in done] for n, done in runs.items()},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=1, help="probe runs per app")
    parser.add_argument("--json", type=Path, default=None, help="also write the numbers here")
    args = parser.parse_args()
    runs = probe_all(max(1, args.runs))
    print("\n".join(table({name: done[0] for name, done in runs.items()})))
    print()
    print("\n".join(per_app(runs)))
    print()
    print("\n".join(slowest_checks(runs)))
    numbers = summary(runs)
    print(
        f"\n{numbers['exact']}/{numbers['apps']} apps exactly their labels; probe time per app "
        f"(median of {numbers['runs_per_app']} runs): median {numbers['median_s']:.1f} s, "
        f"range {numbers['min_s']:.1f}-{numbers['max_s']:.1f} s"
    )
    if args.json is not None:
        args.json.write_text(json.dumps(numbers, indent=2) + "\n")


if __name__ == "__main__":
    main()

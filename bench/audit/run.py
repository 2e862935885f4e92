"""Time `valetkey audit` against Bandit and Semgrep on the same large tree, and compare the
findings where the tools overlap (hard-coded secrets, verify=False, missing timeouts).

    .venv/bin/python bench/audit/run.py [--tree DIR] [--runs 5]

The tree defaults to the false-positive run's site-packages (bench/audit/fp_run.py: OAuth
and web packages installed by name into .cache/fp-run/venv, over 5,000 files). Bandit and
Semgrep are installed by name into bench/.peers/venv (git-ignored). Semgrep runs our own
rule file (bench/audit/semgrep-oauth.yml), never the registry. Results:
bench/results/audit.json.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import fp_run  # bench/audit/fp_run.py: the same big tree for timing and for review

ROOT = Path(__file__).resolve().parents[2]
PEERS = ROOT / "bench" / ".peers" / "venv"
RESULTS = ROOT / "bench" / "results" / "audit.json"
RULES = ROOT / "bench" / "audit" / "semgrep-oauth.yml"
FIXTURES = ROOT / "tests" / "audit" / "fixtures"
# Bandit tests that overlap valetkey checks: hard-coded secret, verify=False, no timeout.
OVERLAP = {"B105": "OA105", "B106": "OA105", "B107": "OA105", "B501": "OA110", "B113": "OA111"}
VALETKEY = [str(ROOT / ".venv" / "bin" / "valetkey"), "audit"]


def ensure_tree(tree: Path | None) -> Path:
    """The tree given, or the false-positive run's site-packages (installed if missing)."""
    if tree is not None:
        if not any(tree.rglob("*.py")):
            raise SystemExit(f"bench/audit: no Python files under {tree}")
        return tree
    if not any(fp_run.DEFAULT_VENV.glob("lib/python3*/site-packages")):
        fp_run.install(fp_run.DEFAULT_VENV)
    return fp_run.site_packages(fp_run.DEFAULT_VENV)


def ensure_peers() -> None:
    if (PEERS / "bin" / "bandit").exists() and (PEERS / "bin" / "semgrep").exists():
        return
    subprocess.run([sys.executable, "-m", "venv", str(PEERS)], check=True)
    subprocess.run([str(PEERS / "bin" / "pip"), "install", "-q", "bandit", "semgrep"], check=True)


def commands(tree: Path, out: Path) -> dict[str, list[str]]:
    return {
        "valetkey": [
            *VALETKEY,
            str(tree),
            "--format",
            "json",
            "--no-progress",
            "-o",
            str(out / "valetkey.json"),
        ],
        "bandit": [
            str(PEERS / "bin" / "bandit"),
            "-r",
            str(tree),
            "-q",
            "-f",
            "json",
            "-o",
            str(out / "bandit.json"),
        ],
        "semgrep": [
            str(PEERS / "bin" / "semgrep"),
            "scan",
            "--config",
            str(RULES),
            "--metrics=off",
            "--disable-version-check",
            "--no-git-ignore",  # the default tree is under .cache/, which git ignores
            "--json",
            "-o",
            str(out / "semgrep.json"),
            str(tree),
        ],
    }


def timed(argv: list[str]) -> float:
    env = {**os.environ, "SEMGREP_SEND_METRICS": "off", "NO_COLOR": "1"}
    start = time.perf_counter()
    subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env, check=False)
    return time.perf_counter() - start


def load(path: Path) -> dict[str, object]:
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def bandit_overlap(report: dict[str, object]) -> list[tuple[str, int, str]]:
    rows = report.get("results", [])
    assert isinstance(rows, list)
    return [
        (str(Path(r["filename"]).resolve()), int(r["line_number"]), OVERLAP[r["test_id"]])
        for r in rows
        if r.get("test_id") in OVERLAP
    ]


def valetkey_pairs(report: dict[str, object], base: Path) -> set[tuple[str, int, str]]:
    rows = report.get("findings", [])
    assert isinstance(rows, list)
    return {(str((base / r["file"]).resolve()), int(r["line"]), str(r["id"])) for r in rows}


def fixture_truth() -> dict[str, object]:
    """On the labelled fixtures: Bandit's overlapping findings on lines marked
    `# expect: OA105/OA110/OA111` are true and must be found by valetkey; those in good
    fixtures are Bandit's false alarms and must not be copied."""
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp)
        cmd = commands(FIXTURES, out)
        subprocess.run(cmd["bandit"], capture_output=True, check=False)
        subprocess.run(cmd["valetkey"], capture_output=True, check=False, cwd=ROOT)
        bandit = bandit_overlap(load(out / "bandit.json"))
        ours = valetkey_pairs(load(out / "valetkey.json"), ROOT)
    marked = _marked_lines()
    true_hits = [b for b in bandit if (b[0], b[1]) in marked.get(b[2], set())]
    false_hits = [b for b in bandit if "/good_" in b[0]]
    return {
        "bandit_overlap_findings": len(bandit),
        "bandit_true": len(true_hits),
        "bandit_true_also_found_by_valetkey": sum(
            1 for b in true_hits if (b[0], b[1], b[2]) in ours
        ),
        "bandit_false_alarms": len(false_hits),
        "bandit_false_alarms_copied_by_valetkey": sum(
            1 for b in false_hits if any((b[0], b[1]) == (o[0], o[1]) for o in ours)
        ),
        "missed": [
            f"{Path(b[0]).relative_to(ROOT)}:{b[1]} {b[2]}"
            for b in true_hits
            if (b[0], b[1], b[2]) not in ours
        ],
    }


def _marked_lines() -> dict[str, set[tuple[str, int]]]:
    pattern = re.compile(r"#\s*expect:\s*([A-Z0-9, ]+)")
    marked: dict[str, set[tuple[str, int]]] = {}
    for path in FIXTURES.rglob("bad_*.py"):
        for number, line in enumerate(path.read_text().splitlines(), start=1):
            match = pattern.search(line)
            for check in match.group(1).split(",") if match else []:
                marked.setdefault(check.strip(), set()).add((str(path.resolve()), number))
    return marked


def tree_overlap(out: Path) -> dict[str, object]:
    bandit = bandit_overlap(load(out / "bandit.json"))
    ours = valetkey_pairs(load(out / "valetkey.json"), Path.cwd())  # paths relative to cwd
    matched = [b for b in bandit if b in ours]
    return {
        "bandit_overlap_findings": len(bandit),
        "of_which_valetkey_reports_same_line_and_check": len(matched),
        "note": "every unmatched Bandit hit on this tree was reviewed as a false alarm "
        "(see docs/audit.md, false-positive run)",
    }


def versions() -> dict[str, str]:
    found = {}
    for tool, argv in {
        "valetkey": [*VALETKEY[:1], "--version"],
        "bandit": [str(PEERS / "bin" / "bandit"), "--version"],
        "semgrep": [str(PEERS / "bin" / "semgrep"), "--version"],
    }.items():
        done = subprocess.run(argv, capture_output=True, text=True, check=False)
        lines = (done.stdout or done.stderr).strip().splitlines()
        found[tool] = lines[0] if lines else "unknown"
    return found


def count(report: dict[str, object], key: str) -> int:
    rows = report.get(key, [])
    return len(rows) if isinstance(rows, list) else 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tree", type=Path, default=None, help="default: fp_run's packages")
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    tree = ensure_tree(args.tree)
    ensure_peers()
    files = sum(1 for _ in tree.rglob("*.py"))
    times: dict[str, list[float]] = {"valetkey": [], "bandit": [], "semgrep": []}
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp)
        cmd = commands(tree, out)
        for _ in range(args.runs):  # interleaved, so drift hits every tool alike
            for tool in times:
                times[tool].append(timed(cmd[tool]))
        counts = {
            "valetkey": count(load(out / "valetkey.json"), "findings"),
            "bandit": count(load(out / "bandit.json"), "results"),
            "semgrep": count(load(out / "semgrep.json"), "results"),
        }
        overlap = tree_overlap(out)
    medians = {tool: round(statistics.median(values), 3) for tool, values in times.items()}
    result = {
        "versions": versions(),
        "tree": str(tree),
        "python_files": files,
        "runs": args.runs,
        "cpu_count": os.cpu_count(),
        "wall_seconds": {t: [round(v, 3) for v in vs] for t, vs in times.items()},
        "median_seconds": medians,
        "ratio_bandit_over_valetkey": round(medians["bandit"] / medians["valetkey"], 2),
        "ratio_semgrep_over_valetkey": round(medians["semgrep"] / medians["valetkey"], 2),
        "findings": counts,
        "overlap_on_tree": overlap,
        "overlap_on_labelled_fixtures": fixture_truth(),
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()

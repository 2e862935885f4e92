"""The false-positive run: audit thousands of files of real OAuth and web code and list every
finding for review.

    .venv/bin/python bench/audit/fp_run.py [--venv DIR] [--name fp-run] [--no-install]

Installs PACKAGES by name from PyPI (with their dependencies) into a scratch virtualenv,
`.cache/fp-run/venv` by default (git-ignored, never committed), runs
`valetkey audit --format json` over its site-packages folder, and writes every finding with
its source line to `bench/results/<name>.json` and `<name>.md`. A later run reuses the venv;
`--no-install` skips pip entirely. Exit status: 0 when the audit ran (findings or not), 2 when
it could not run or a file gave an internal error.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
DEFAULT_VENV = ROOT / ".cache" / "fp-run" / "venv"
RESULTS = ROOT / "bench" / "results"
VERDICTS = ROOT / "bench" / "audit" / "fp_verdicts.json"
VALETKEY = ROOT / ".venv" / "bin" / "valetkey"
MIN_FILES = 5000
PACKAGES = [
    "django-allauth",
    "social-auth-app-django",
    "social-auth-core",
    "fastapi-users",
    "httpx-oauth",
    "msal",
    "google-auth-oauthlib",
    "oauthlib",
    "requests-oauthlib",
    "flask-dance",
    "authlib",
    "litestar",
    "aiohttp",
    "tornado",
    "sanic",
    "quart",
    "falcon",
    "pyramid",
    "django",
    "flask",
    "starlette",
    "fastapi",
    "werkzeug",
    "requests",
    "httpx",
    # beyond the brief's list: more OAuth/OIDC and web code, and the count past 5,000
    "django-oauth-toolkit",
    "pyjwt",
    "python-jose",
    "joserfc",
    "jwcrypto",
    "flask-login",
    "bottle",
    "fastapi-sso",
    "urllib3",
]
# pulled in as dependencies, then removed: Faker (polyfactory's test-data generator) is 753
# files of locale tables, no web code, and one 770 KB literal table on which Bandit alone
# spends many minutes, which would make the timing bench (bench/audit/run.py) say nothing
REMOVED = ["faker"]


def site_packages(venv: Path) -> Path:
    found = sorted(venv.glob("lib/python3*/site-packages"))
    if not found:
        raise SystemExit(f"fp_run: no site-packages under {venv}; run without --no-install")
    return found[0]


def install(venv: Path) -> None:
    if not (venv / "bin" / "python").exists():
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    pip = [str(venv / "bin" / "python"), "-m", "pip", "install", "-q"]
    subprocess.run([*pip, *PACKAGES], check=True)
    python = str(venv / "bin" / "python")
    subprocess.run([python, "-m", "pip", "uninstall", "-q", "-y", *REMOVED], check=True)
    # the audit's settings come from the nearest pyproject.toml: this empty one keeps the
    # repository's own `exclude` from applying to the installed packages
    (venv / "pyproject.toml").write_text("# valetkey fp_run: default audit settings\n")


def versions(venv: Path) -> dict[str, str]:
    done = subprocess.run(
        [str(venv / "bin" / "python"), "-m", "pip", "list", "--format", "json"],
        capture_output=True,
        text=True,
        check=True,
    )
    return {row["name"].lower(): row["version"] for row in json.loads(done.stdout)}


def audit(tree: Path, out: Path) -> tuple[dict[str, Any], float, int]:
    argv = [str(VALETKEY), "audit", str(tree), "--format", "json", "--no-progress", "-o", str(out)]
    start = time.perf_counter()
    done = subprocess.run(argv, capture_output=True, text=True, check=False, cwd=tree)
    elapsed = time.perf_counter() - start
    if done.returncode not in (0, 1, 2) or not out.exists():
        raise SystemExit(f"fp_run: valetkey audit failed ({done.returncode}): {done.stderr}")
    data: dict[str, Any] = json.loads(out.read_text(encoding="utf-8"))
    return data, elapsed, done.returncode


def source_line(tree: Path, file: str, line: int) -> str:
    try:
        lines = (tree / file).read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return ""
    return lines[line - 1].strip() if 0 < line <= len(lines) else ""


def rows(tree: Path, report: dict[str, Any]) -> list[dict[str, Any]]:
    reviewed = verdicts()
    found = []
    for f in report["findings"]:
        row = {
            "file": f["file"],
            "line": f["line"],
            "id": f["id"],
            "message": f["message"],
            "source": source_line(tree, f["file"], f["line"]),
        }
        review = reviewed.get(_review_key(row), {"verdict": "unreviewed"})
        found.append({**row, **{k: v for k, v in review.items() if k in REVIEW_FIELDS}})
    return found


REVIEW_FIELDS = ("verdict", "pattern", "why")


def verdicts() -> dict[tuple[str, str, str], dict[str, str]]:
    """The reviewed findings of earlier runs (bench/audit/fp_verdicts.json), by id, file and
    source line, so a rerun shows which findings are known and which are new."""
    data = json.loads(VERDICTS.read_text(encoding="utf-8"))
    return {_review_key(v): v for v in data["verdicts"]}


def _review_key(row: dict[str, Any]) -> tuple[str, str, str]:
    return row["id"], row["file"], " ".join(str(row["source"]).split())


def markdown(result: dict[str, Any]) -> str:
    counts = Counter((r["id"], r["verdict"]) for r in result["findings"])
    kinds = ("true", "false", "debatable", "unreviewed")
    ids = sorted({r["id"] for r in result["findings"]})
    head = [
        f"# False-positive run `{result['name']}`",
        "",
        f"{result['python_files']} Python files in {len(result['packages'])} installed "
        f"distributions, {len(result['findings'])} findings, {len(result['errors'])} errors, "
        f"audit wall time {result['audit_seconds']} s.",
        "",
        "| id | findings | " + " | ".join(kinds) + " |",
        "|---|---|" + "---|" * len(kinds),
        *(
            f"| {i} | {sum(counts[i, k] for k in kinds)} | "
            + " | ".join(str(counts[i, k]) for k in kinds)
            + " |"
            for i in ids
        ),
        "",
        "| id | file:line | source | verdict | why |",
        "|---|---|---|---|---|",
    ]
    body = [
        f"| {r['id']} | {r['file']}:{r['line']} | `{_cell(r['source'])}` | {r['verdict']} | "
        f"{_cell(r.get('why', r['message']))} |"
        for r in result["findings"]
    ]
    errors = [f"- {e['file']}: {e['message']}" for e in result["errors"]]
    return "\n".join([*head, *body, "", "Errors:" if errors else "", *errors]) + "\n"


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("`", "'")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--venv", type=Path, default=DEFAULT_VENV)
    parser.add_argument("--name", default="fp-run", help="results file stem under bench/results")
    parser.add_argument("--no-install", action="store_true", help="reuse the venv as it is")
    args = parser.parse_args()
    if not args.no_install:
        install(args.venv)
    tree = site_packages(args.venv)
    files = sum(1 for _ in tree.rglob("*.py"))
    if files < MIN_FILES:
        print(f"fp_run: warning: only {files} Python files (< {MIN_FILES})", file=sys.stderr)
    RESULTS.mkdir(parents=True, exist_ok=True)
    raw = RESULTS / f"{args.name}.tmp"
    report, elapsed, code = audit(tree, raw)
    raw.unlink()
    result = {
        "name": args.name,
        "tree": str(tree),
        "python_files": files,
        "files_scanned": report["files_scanned"],
        "audit_seconds": round(elapsed, 2),
        "packages": versions(args.venv),
        "findings": rows(tree, report),
        "errors": report["errors"],
    }
    (RESULTS / f"{args.name}.json").write_text(json.dumps(result, indent=2) + "\n")
    (RESULTS / f"{args.name}.md").write_text(markdown(result))
    print(markdown(result).split("\n| id | file:line")[0])
    sys.exit(2 if code == 2 else 0)


if __name__ == "__main__":
    main()

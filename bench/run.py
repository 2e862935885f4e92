"""Run the benchmarks: `python bench/run.py [provider|audit|all] [-- extra args]`.

    .venv/bin/python bench/run.py              # all (default)
    .venv/bin/python bench/run.py provider     # bench/provider/run.py
    .venv/bin/python bench/run.py audit        # bench/audit/run.py, if it exists
    .venv/bin/python bench/run.py fixture      # bench/fixture/signin.py (pytest fixture)
    .venv/bin/python bench/run.py provider -- --quick

Each suite runs as its own process with this interpreter; extra arguments after `--` go to
every suite that runs. The exit code is the first non-zero one.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parent
SUITES = {
    "provider": BENCH / "provider" / "run.py",
    "audit": BENCH / "audit" / "run.py",
    "fixture": BENCH / "fixture" / "signin.py",
}


def run_suite(name: str, extra: list[str]) -> int:
    script = SUITES[name]
    if not script.exists():
        print(
            f"bench: {name}: {script.relative_to(BENCH.parent)} does not exist; skipped", flush=True
        )
        return 0
    print(
        f"bench: {name}: {script.relative_to(BENCH.parent)} {' '.join(extra)}".rstrip(), flush=True
    )
    return subprocess.run([sys.executable, str(script), *extra], check=False).returncode


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    extra: list[str] = []
    if "--" in args:
        extra = args[args.index("--") + 1 :]
        args = args[: args.index("--")]
    parser = argparse.ArgumentParser(description="Run valetkey's benchmarks.")
    parser.add_argument("suite", nargs="?", default="all", choices=[*SUITES, "all"])
    suite = parser.parse_args(args).suite
    names = list(SUITES) if suite == "all" else [suite]
    codes = [run_suite(name, extra) for name in names]
    return next((code for code in codes if code != 0), 0)


if __name__ == "__main__":
    sys.exit(main())

"""valetkey provider benchmark against oidc-provider and the mock peers.

    .venv/bin/python bench/provider/run.py [--repeats 3] [--quick]

Installs the peers into bench/.peers/ (git-ignored), starts every server on 127.0.0.1 and
measures, in one run: client-credentials token requests/s (wrk), complete authorization-code
+ PKCE flows/s at 1 and 16 at a time (httpx, each flow a fresh browser that logs in through
the login form), server CPU per flow, start-up time to the first discovery answer, and idle
RSS. Writes bench/results/provider-YYYYMMDD.json and prints a table (Markdown).
"""

from __future__ import annotations

import argparse
import compileall
import os
import platform
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from contextlib import ExitStack
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import httpx
from flows import password_refused, run_flows
from load import probe, run_wrk, write_lua
from peers import BENCH_DIR, SetupError, install, require_tool
from report import write_json
from servers import (
    CpuMeter,
    Running,
    ServerSpec,
    rss_mib,
    start,
    startup_times,
    stop,
    wait_for_quiet,
)
from subjects import Subject, peer_subjects, valetkey_argv, valetkey_subjects
from summary import summarize, table

IDLE_WARMUP_REQUESTS = 10
WRONG_PASSWORD = "wrong-password-for-the-pre-flight-probe"
FLOW_CAP = 20_000
COLD = "valetkey-cold (empty data dir)"
STARTUP_SKIP = (
    "valetkey-jwt",
    "valetkey-opaque-weakhash",
    "oidc-provider-opaque-consent-each-flow",
    "oidc-provider-opaque-argon2",
)


@dataclass(frozen=True)
class Config:
    repeats: int
    wrk_seconds: int
    wrk_connections: int
    flow_seconds: float
    startup_repeats: int
    concurrency: tuple[int, ...]
    quiet_wait_s: float


def parse_args(argv: list[str]) -> tuple[Config, Path | None]:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--repeats", type=int, default=3, help="runs of each measurement (median)")
    p.add_argument("--wrk-seconds", type=int, default=5)
    p.add_argument("--wrk-connections", type=int, default=32)
    p.add_argument("--flow-seconds", type=float, default=4.0)
    p.add_argument("--startup-repeats", type=int, default=5)
    p.add_argument(
        "--quiet-wait",
        type=float,
        default=5.0,
        help="before each measurement wait up to this many seconds for other users of the\n"
        "machine to go below 0.3 busy cores (0: do not wait)",
    )
    p.add_argument("--quick", action="store_true", help="1 repeat, 2 s each: a smoke test")
    p.add_argument("--output", type=Path, default=None, help="JSON file to write")
    a = p.parse_args(argv)
    if a.quick:
        return Config(1, 2, a.wrk_connections, 2.0, 2, (1, 16), min(a.quiet_wait, 2.0)), a.output
    cfg = Config(
        a.repeats,
        a.wrk_seconds,
        a.wrk_connections,
        a.flow_seconds,
        a.startup_repeats,
        (1, 16),
        a.quiet_wait,
    )
    return cfg, a.output


def measure_startups(
    subjects: list[Subject], work: Path, logs: Path, cfg: Config
) -> dict[str, list[float]]:
    """Spawn -> first 200 from discovery, interleaved; valetkey also on an empty data dir."""
    timed = [s.spec for s in subjects if s.name not in STARTUP_SKIP]
    out: dict[str, list[float]] = {spec.name: [] for spec in timed}
    out[COLD] = []
    for i in range(cfg.startup_repeats):
        cold = ServerSpec(COLD, "valetkey", valetkey_argv(work / f"cold-{i}", "jwt", False))
        for spec in [*timed, cold]:
            wait_for_quiet(cfg.quiet_wait_s)
            out[spec.name] += startup_times(spec, logs, 1)
    return out


def settle(server: Running, subject: Subject) -> dict[str, Any]:
    """A few requests after start-up, then the idle RSS; probes the token endpoint."""
    info: dict[str, Any] = {}
    with httpx.Client(base_url=server.base_url, trust_env=False) as client:
        for _ in range(IDLE_WARMUP_REQUESTS):
            client.get("/.well-known/openid-configuration").raise_for_status()
    endpoint = subject.endpoint(server.base_url)
    if endpoint is not None:
        info["token_probe"] = probe(endpoint)
    target = subject.flow_target(server.base_url)
    if target is not None:
        info["refuses_wrong_password"] = password_refused(target, WRONG_PASSWORD)
    time.sleep(0.5)
    info["idle_rss_mib"] = rss_mib(server.pid)
    return info


def warm_up(server: Running, subject: Subject, wrk: str, lua: Path | None, cfg: Config) -> None:
    endpoint = subject.endpoint(server.base_url)
    if endpoint is not None and lua is not None:
        run_wrk(wrk, endpoint.token_url, lua, 1, cfg.wrk_connections, 1)
    target = subject.flow_target(server.base_url)
    if target is not None:
        run_flows(target, 1, 0.5, 3)  # the first flow also gives consent
        run_flows(target, 4, 1.0, 200)


def cc_round(
    servers: dict[str, Running],
    subjects: list[Subject],
    wrk: str,
    luas: dict[str, Path],
    cfg: Config,
    rnd: int,
) -> dict[str, dict[str, Any]]:
    out = {}
    order = [s for s in subjects if s.cc is not None]
    order = order[rnd % len(order) :] + order[: rnd % len(order)]
    for subject in order:
        server = servers[subject.name]
        endpoint = subject.endpoint(server.base_url)
        assert endpoint is not None
        wait_for_quiet(cfg.quiet_wait_s)
        with CpuMeter(server.pid) as cpu:
            result = run_wrk(
                wrk,
                endpoint.token_url,
                luas[subject.name],
                1,
                cfg.wrk_connections,
                cfg.wrk_seconds,
            )
        out[subject.name] = {
            **asdict(result),
            "server_cpu_ms_per_request": 1000 * cpu.server / max(result.requests, 1),
            "other_processes_cores": cpu.others_cores,
        }
    return out


def flow_round(
    servers: dict[str, Running], subjects: list[Subject], cfg: Config, concurrency: int, rnd: int
) -> dict[str, dict[str, Any]]:
    out = {}
    order = [s for s in subjects if s.flow is not None]
    order = order[rnd % len(order) :] + order[: rnd % len(order)]
    for subject in order:
        server = servers[subject.name]
        target = subject.flow_target(server.base_url)
        assert target is not None
        wait_for_quiet(cfg.quiet_wait_s)
        with CpuMeter(server.pid) as cpu:
            result = run_flows(target, concurrency, cfg.flow_seconds, FLOW_CAP)
        out[subject.name] = {
            **asdict(result),
            "flows_per_s": result.flows_per_s,
            "server_cpu_ms_per_flow": 1000 * cpu.server / max(result.flows, 1),
            "other_processes_cores": cpu.others_cores,
        }
    return out


def measure_load(
    servers: dict[str, Running], subjects: list[Subject], cfg: Config, wrk: str, work: Path
) -> dict[str, Any]:
    luas = {}
    for s in subjects:
        endpoint = s.endpoint(servers[s.name].base_url)
        if endpoint is not None:
            luas[s.name] = write_lua(endpoint, work)
    for s in subjects:
        warm_up(servers[s.name], s, wrk, luas.get(s.name), cfg)
    cc: dict[str, list[dict[str, Any]]] = {}
    fl: dict[int, dict[str, list[dict[str, Any]]]] = {c: {} for c in cfg.concurrency}
    for rnd in range(cfg.repeats):
        print(f"  round {rnd + 1}/{cfg.repeats}", file=sys.stderr, flush=True)
        for name, res in cc_round(servers, subjects, wrk, luas, cfg, rnd).items():
            cc.setdefault(name, []).append(res)
        for c in cfg.concurrency:
            for name, res in flow_round(servers, subjects, cfg, c, rnd).items():
                fl[c].setdefault(name, []).append(res)
    return {"client_credentials": cc, "flows": {str(c): v for c, v in fl.items()}}


def valetkey_revision() -> dict[str, Any]:
    """The commit under test and whether the provider's source differs from it."""
    repo = BENCH_DIR.parent

    def git(*args: str) -> str:
        done = subprocess.run(["git", *args], cwd=repo, capture_output=True, text=True)
        return done.stdout.strip() if done.returncode == 0 else "?"

    dirty = git("status", "--porcelain", "--", "src/valetkey/provider")
    return {"commit": git("rev-parse", "HEAD"), "provider_source_modified": bool(dirty)}


def machine() -> dict[str, Any]:
    return {
        "cpus": os.cpu_count(),
        "loadavg_at_start": os.getloadavg(),
        "python": platform.python_version(),
        "platform": platform.platform(),
    }


def run(cfg: Config, output: Path | None) -> int:
    wrk = require_tool("wrk", "install it with `make bench-tools`")
    print("installing peers into bench/.peers/ ...", file=sys.stderr, flush=True)
    peers = install()
    # valetkey's source is installed editable: compile it as a wheel install would, so that
    # start-up is not timed compiling (PYTHONDONTWRITEBYTECODE would otherwise keep it so)
    compileall.compile_dir(BENCH_DIR.parent / "src", quiet=1)
    work = Path(tempfile.mkdtemp(prefix="valetkey-bench-"))
    logs = work / "logs"
    logs.mkdir()
    data: dict[str, Any] = {
        "date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "machine": machine(),
        "valetkey": valetkey_revision(),
        "versions": peers.versions,
        "config": asdict(cfg),
    }
    try:
        print("preparing valetkey data dirs ...", file=sys.stderr, flush=True)
        subjects = valetkey_subjects(work, logs) + peer_subjects(peers)
        assert len({s.name for s in subjects}) == len(subjects), "duplicate subject names"
        print("start-up times ...", file=sys.stderr, flush=True)
        data["startup_s"] = measure_startups(subjects, work, logs, cfg)
        data["servers"] = {
            s.name: {
                "product": s.spec.product,
                "token_format": s.spec.token_format,
                "comparable": s.comparable,
                "password_check": s.password_check,
                "durability": s.durability,
                "tag": s.tag,
                "notes": s.spec.notes,
            }
            for s in subjects
        }
        with ExitStack() as stack:
            servers: dict[str, Running] = {}
            for s in subjects:
                servers[s.name] = start(s.spec, logs)
                stack.callback(stop, servers[s.name].proc)
            for s in subjects:
                data["servers"][s.name].update(settle(servers[s.name], s))
            print("load (wrk, flows) ...", file=sys.stderr, flush=True)
            data["load"] = measure_load(servers, subjects, cfg, wrk, work)
            for s in subjects:
                data["servers"][s.name]["rss_after_load_mib"] = rss_mib(servers[s.name].pid)
        data["machine"]["loadavg_at_end"] = os.getloadavg()
    finally:
        shutil.rmtree(work, ignore_errors=True)
    data["summary"] = summarize(data)
    path = (
        output or BENCH_DIR / "results" / f"provider-{time.strftime('%Y%m%d', time.gmtime())}.json"
    )
    write_json(path, data)
    text = table(data)
    load = ", ".join(f"{x:.2f}" for x in data["machine"]["loadavg_at_start"])
    header = f"Run {data['date']}, valetkey {data['valetkey']['commit'][:10]}, load average {load}"
    path.with_suffix(".md").write_text(f"{header}\n\n{text}\n")
    print(text)
    print(f"\nwritten: {path} and {path.with_suffix('.md').name}")
    return 0


def _exit_on_sigterm(signum: int, _frame: object) -> None:
    sys.exit(128 + signum)  # SystemExit runs the finally blocks that stop the servers


def main(argv: list[str] | None = None) -> int:
    signal.signal(signal.SIGTERM, _exit_on_sigterm)
    cfg, output = parse_args(sys.argv[1:] if argv is None else argv)
    try:
        return run(cfg, output)
    except SetupError as exc:
        print(f"bench/provider: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())

"""Medians, valetkey/peer ratios and the issue's targets from one run's raw data."""

from __future__ import annotations

from typing import Any

from report import fmt, markdown_table, median, ratio, verdict

PEER = "oidc-provider"
TOKEN_PAIRS = {
    "opaque": ("valetkey-opaque", "oidc-provider-opaque"),
    "jwt": ("valetkey-jwt", "oidc-provider-jwt"),
}
ARGON2_PEER = "oidc-provider-opaque-argon2"
NO_PASSWORD_PEER = "oidc-provider-opaque"
FLOW_PAIRS = {
    "argon2 default": ("valetkey-opaque", ARGON2_PEER),
    "weak hash (lab)": ("valetkey-opaque-weakhash", NO_PASSWORD_PEER),
}
# issue 16: (least valetkey/peer throughput, most valetkey/peer server CPU per unit or None)
TOKEN_GOAL = (1.25, 0.8)
FLOW_GOALS = {"argon2 default": (1.5, 0.67), "weak hash (lab)": (2.0, None)}
RSS_LIMIT_MIB = 60.0


def _runs_median(runs: list[dict[str, Any]], key: str) -> float | None:
    return median([float(r[key]) for r in runs])


def _cc_summary(cc: dict[str, list[dict[str, Any]]]) -> dict[str, Any]:
    out = {}
    for name, runs in cc.items():
        out[name] = {
            "requests_per_s": _runs_median(runs, "requests_per_s"),
            "server_cpu_ms_per_request": _runs_median(runs, "server_cpu_ms_per_request"),
            "runs_requests_per_s": [r["requests_per_s"] for r in runs],
            "other_processes_cores": _runs_median(runs, "other_processes_cores"),
            "non_2xx": sum(r["non_2xx"] for r in runs),
            "socket_errors": sum(r["socket_errors"] for r in runs),
        }
    return out


def _flow_summary(flows: dict[str, dict[str, list[dict[str, Any]]]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for conc, by_name in flows.items():
        out[conc] = {
            name: {
                "flows_per_s": _runs_median(runs, "flows_per_s"),
                "server_cpu_ms_per_flow": _runs_median(runs, "server_cpu_ms_per_flow"),
                "driver_cpu_ms_per_flow": _runs_median(runs, "driver_cpu_ms_per_flow"),
                "runs_flows_per_s": [round(r["flows_per_s"], 1) for r in runs],
                "other_processes_cores": _runs_median(runs, "other_processes_cores"),
                "errors": sum(r["errors"] for r in runs),
                "first_error": next((r["first_error"] for r in runs if r["first_error"]), None),
                "requests_per_flow": _runs_median(runs, "requests_per_flow"),
                "forms_per_flow": _runs_median(runs, "forms_per_flow"),
            }
            for name, runs in by_name.items()
        }
    return out


def _target(
    name: str, goal: str, value: float | None, ok: bool | None, detail: str
) -> dict[str, Any]:
    return {"name": name, "goal": goal, "value": value, "met": ok, "detail": detail}


def _ratio_target(
    name: str,
    peer: str,
    pair: tuple[dict[str, Any], dict[str, Any]],
    keys: tuple[str, str],
    goal: tuple[float, float | None],
) -> dict[str, Any]:
    """Throughput ratio >= goal[0] and, when goal[1] is set, server CPU ratio <= goal[1]."""
    (mine, theirs), (rate, cpu) = pair, keys
    r = ratio(mine.get(rate), theirs.get(rate))
    cpu_r = ratio(mine.get(cpu), theirs.get(cpu))
    least, most = goal
    ok = None if r is None else r >= least
    text = f">= {least}x {peer}"
    if most is not None:
        text += f", server CPU <= {most}x"
        ok = None if ok is None or cpu_r is None else ok and cpu_r <= most
    detail = f"{fmt(mine.get(rate))} vs {fmt(theirs.get(rate))}; server CPU {fmt(cpu_r, 3)}x"
    return _target(name, text, r, ok, detail)


def _targets(s: dict[str, Any]) -> list[dict[str, Any]]:
    out = []
    cc = s["client_credentials"]
    for fmt_name, (ours, peer) in TOKEN_PAIRS.items():
        pair = (cc.get(ours, {}), cc.get(peer, {}))
        keys = ("requests_per_s", "server_cpu_ms_per_request")
        out.append(_ratio_target(f"token endpoint req/s, {fmt_name}", peer, pair, keys, TOKEN_GOAL))
    for conc, by_name in s["flows"].items():
        for label, (ours, peer) in FLOW_PAIRS.items():
            pair = (by_name.get(ours, {}), by_name.get(peer, {}))
            keys = ("flows_per_s", "server_cpu_ms_per_flow")
            name = f"flows/s at {conc} at a time, valetkey {label}"
            out.append(_ratio_target(name, peer, pair, keys, FLOW_GOALS[label]))
    ours_s, peer_s = (
        s["startup_s"].get("valetkey-opaque"),
        s["startup_s"].get("oidc-provider-opaque"),
    )
    ok = None if ours_s is None or peer_s is None else ours_s <= peer_s
    out.append(
        _target(
            "start-up to first discovery 200 (existing data dir)",
            "<= oidc-provider",
            ratio(ours_s, peer_s),
            ok,
            f"{fmt(ours_s, 3)} s vs {fmt(peer_s, 3)} s",
        )
    )
    rss = [v["idle_rss_mib"] for k, v in s["servers"].items() if k.startswith("valetkey")]
    worst = max(rss) if rss else None
    out.append(
        _target(
            "idle RSS",
            f"< {RSS_LIMIT_MIB:.0f} MiB",
            worst,
            None if worst is None else worst < RSS_LIMIT_MIB,
            f"largest valetkey server {fmt(worst)} MiB",
        )
    )
    return out


def summarize(data: dict[str, Any]) -> dict[str, Any]:
    s: dict[str, Any] = {
        "client_credentials": _cc_summary(data["load"]["client_credentials"]),
        "flows": _flow_summary(data["load"]["flows"]),
        "startup_s": {k: median(v) for k, v in data["startup_s"].items()},
        "servers": {k: {"idle_rss_mib": v.get("idle_rss_mib")} for k, v in data["servers"].items()},
    }
    s["targets"] = _targets(s)
    return s


def _cc_rows(data: dict[str, Any]) -> list[list[str]]:
    s, rows = data["summary"], []
    for name, v in s["client_credentials"].items():
        meta = data["servers"][name]
        probe = meta.get("token_probe", {})
        peer = next((p for f, (o, p) in TOKEN_PAIRS.items() if o == name), None)
        theirs = s["client_credentials"].get(peer, {}) if peer else {}
        r = ratio(v["requests_per_s"], theirs.get("requests_per_s"))
        cpu_r = ratio(v["server_cpu_ms_per_request"], theirs.get("server_cpu_ms_per_request"))
        kind = f"{probe.get('token_kind', '?')} {probe.get('token_alg') or ''}".strip()
        rows.append(
            [
                name,
                kind,
                fmt(v["requests_per_s"], 0),
                " / ".join(f"{x:,.0f}" for x in v["runs_requests_per_s"]),
                fmt(v["server_cpu_ms_per_request"], 3),
                fmt(r, 2) + ("x" if r else ""),
                fmt(cpu_r, 2) + ("x" if cpu_r else ""),
                fmt(v["other_processes_cores"], 2),
                "yes" if probe.get("checks_client_secret") else "NO",
                meta["durability"],
                str(v["non_2xx"] + v["socket_errors"]),
            ]
        )
    return rows


def _label(name: str, meta: dict[str, Any]) -> str:
    notes = [meta["tag"]] if meta["tag"] else []
    if meta["product"] == "valetkey" and meta["token_format"] == "jwt":
        notes.append("JWT access tokens; peer row is opaque")
    return name + (f" ({'; '.join(notes)})" if notes else "")


def flow_peer(name: str, meta: dict[str, Any]) -> str:
    """The peer a flow row is compared with: the argon2 peer for valetkey's default hash."""
    default = ARGON2_PEER if meta["product"] == "valetkey" else NO_PASSWORD_PEER
    return next((p for o, p in FLOW_PAIRS.values() if o == name), default)


def _refuses(meta: dict[str, Any]) -> str:
    refused = meta.get("refuses_wrong_password")
    return "?" if refused is None else "yes" if refused else "NO"


def _flow_rows(data: dict[str, Any]) -> list[list[str]]:
    s, rows = data["summary"], []
    for conc, by_name in s["flows"].items():
        for name, v in by_name.items():
            meta = data["servers"][name]
            peer_name = flow_peer(name, meta)
            shown = meta["tag"] != "not comparable" and name != peer_name
            peer = by_name.get(peer_name, {})
            r = ratio(v["flows_per_s"], peer.get("flows_per_s")) if shown else None
            cpu_r = (
                ratio(v["server_cpu_ms_per_flow"], peer.get("server_cpu_ms_per_flow"))
                if shown
                else None
            )
            rows.append(
                [
                    conc,
                    _label(name, meta),
                    fmt(v["flows_per_s"]),
                    " / ".join(f"{x:.0f}" for x in v["runs_flows_per_s"]),
                    peer_name if shown else "-",
                    fmt(r, 2) + ("x" if r else ""),
                    fmt(v["server_cpu_ms_per_flow"], 2),
                    fmt(cpu_r, 2) + ("x" if cpu_r else ""),
                    fmt(v["driver_cpu_ms_per_flow"], 2),
                    fmt(v["other_processes_cores"], 2),
                    f"{fmt(v['requests_per_flow'])} / {fmt(v['forms_per_flow'])}",
                    _refuses(meta),
                    meta["durability"],
                    str(v["errors"]),
                ]
            )
    return rows


def _misc_rows(data: dict[str, Any]) -> list[list[str]]:
    s = data["summary"]
    rows = []
    for name, meta in data["servers"].items():
        start = s["startup_s"].get(name)
        rows.append(
            [
                name,
                fmt(start, 3) if start is not None else "-",
                fmt(meta.get("idle_rss_mib")),
                fmt(meta.get("rss_after_load_mib")),
                meta["password_check"],
            ]
        )
    cold = s["startup_s"].get("valetkey-cold (empty data dir)")
    rows.append(
        ["valetkey, empty data dir (migrations, keys, demo users)", fmt(cold, 3), "-", "-", "-"]
    )
    return rows


def table(data: dict[str, Any]) -> str:
    parts = [
        "### Client-credentials token endpoint (wrk -t1 -c{c} -d{d}s, median of {n})".format(
            c=data["config"]["wrk_connections"],
            d=data["config"]["wrk_seconds"],
            n=data["config"]["repeats"],
        ),
        markdown_table(
            [
                "server",
                "access token",
                "req/s",
                "runs",
                "server CPU ms/req",
                "valetkey/peer req/s",
                "valetkey/peer CPU per req",
                "other procs (cores)",
                "checks secret",
                "durability",
                "errors",
            ],
            _cc_rows(data),
        ),
        "",
        "### Authorization code + PKCE flows, fresh browser each "
        "(median of {n}, {t:.0f} s each)".format(
            n=data["config"]["repeats"], t=data["config"]["flow_seconds"]
        ),
        markdown_table(
            [
                "at a time",
                "server",
                "flows/s",
                "runs",
                "peer",
                "flows/s vs peer",
                "server CPU ms/flow",
                "CPU ratio",
                "driver CPU ms/flow",
                "other procs (cores)",
                "requests / forms per flow",
                "checks password",
                "durability",
                "errors",
            ],
            _flow_rows(data),
        ),
        "",
        "### Start-up (spawn to first discovery 200, median) and memory",
        markdown_table(
            [
                "server",
                "start-up s",
                "idle RSS MiB",
                "RSS after load MiB",
                "password check at login",
            ],
            _misc_rows(data),
        ),
        "",
        "### Targets",
        markdown_table(
            ["target", "goal", "value", "verdict", "detail"],
            [
                [t["name"], t["goal"], fmt(t["value"], 2), verdict(t["met"]), t["detail"]]
                for t in data["summary"]["targets"]
            ],
        ),
    ]
    return "\n".join(parts)

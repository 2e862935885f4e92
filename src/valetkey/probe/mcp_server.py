"""`valetkey probe mcp-server`: run the MS checks against a protected MCP server that trusts
the sandbox. Each check runs isolated: one that breaks is an `error` result with a one-line
reason, and the report is always written."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from functools import partial

import httpx

from valetkey.probe.mcp_server_checks import MCP_SERVER_CHECKS, Check
from valetkey.probe.mcp_session import McpProbeError, McpProbeSession, McpTarget
from valetkey.probe.report import Result, Run, not_applicable, run_selected


def run_mcp_server_probe(
    target: McpTarget,
    only: Iterable[str] | None = None,
    progress: Callable[[str], None] | None = None,
) -> Run:
    """Raises McpProbeError only when the sandbox is not usable at all."""
    started = time.monotonic()
    run = Run(target.url)
    session = McpProbeSession(target)
    try:
        session.open()
        if not session.tools:
            run.notes.append("tools/list with a valid full-scope token listed no tools")
        run_selected(run, MCP_SERVER_CHECKS, only, progress, partial(_run_one, session))
    finally:
        session.close()
        run.seconds = time.monotonic() - started
    return run


def _run_one(session: McpProbeSession, check_id: str, check: Check) -> Result:
    try:
        return check(session)
    except (McpProbeError, httpx.HTTPError) as exc:
        return not_applicable(check_id, f"could not run: {exc}")

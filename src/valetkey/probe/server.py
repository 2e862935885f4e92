"""`valetkey probe server`: run the AS checks against a live authorization server."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from functools import partial

import httpx

from valetkey.probe.report import Result, Run, not_applicable, timed
from valetkey.probe.server_checks import SERVER_CHECKS
from valetkey.probe.session import ProbeError, ProbeSession, Target
from valetkey.useragent.agent import AgentError


def checks_for(only: Iterable[str] | None) -> list[tuple[str, Callable[[ProbeSession], Result]]]:
    wanted = {item.strip().upper() for item in only} if only else None
    chosen = [(cid, check) for cid, check in SERVER_CHECKS if wanted is None or cid in wanted]
    return sorted(chosen, key=lambda item: item[0])


def run_server_probe(
    target: Target, only: Iterable[str] | None = None, progress: Callable[[str], None] | None = None
) -> Run:
    started = time.monotonic()
    session = ProbeSession(target)
    run = Run(target.issuer)
    try:
        session.open()
        for check_id, check in checks_for(only):
            if progress is not None:
                progress(check_id)
            run.results.append(timed(check_id, partial(_run_one, session, check_id, check)))
    finally:
        session.close()
        run.notes = session.notes
        run.seconds = time.monotonic() - started
    return run


def _run_one(
    session: ProbeSession, check_id: str, check: Callable[[ProbeSession], Result]
) -> Result:
    try:
        return check(session)
    except ProbeError as exc:
        return not_applicable(check_id, f"could not run: {exc}")
    except AgentError as exc:
        return not_applicable(check_id, f"could not run: the browser could not go on: {exc}")
    except httpx.HTTPError as exc:
        return not_applicable(check_id, f"could not run: {type(exc).__name__}: {exc}")

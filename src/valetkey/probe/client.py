"""`valetkey probe client`: run the LC checks against a client app that uses the sandbox.

One normal sign-in comes first: it teaches the probe what "signed in" looks like for this
app. When it does not complete, the report says so first, and only the checks that need no
sign-in are judged. Each check runs isolated: one that breaks is an `error` result with a
one-line reason, and the report is always written."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from functools import partial

import httpx

from valetkey.probe.client_checks import CLIENT_CHECKS, Check
from valetkey.probe.client_session import ClientProbeError, ClientProbeSession, ClientTarget
from valetkey.probe.report import Result, Run, not_applicable, run_selected
from valetkey.probe.signed_in import Undecidable
from valetkey.useragent.agent import AgentError


def run_client_probe(
    target: ClientTarget,
    only: Iterable[str] | None = None,
    progress: Callable[[str], None] | None = None,
) -> Run:
    """Raises ClientProbeError only when the sandbox is not usable at all."""
    started = time.monotonic()
    run = Run(target.login_url)
    session = ClientProbeSession(target)
    try:
        session.open()
        problem = session.learn()
        if problem:
            run.notes.append(f"the app's normal sign-in did not complete: {problem}")
        run_selected(run, CLIENT_CHECKS, only, progress, partial(_run_one, session))
    finally:
        session.close()
        run.seconds = time.monotonic() - started
    return run


def _run_one(session: ClientProbeSession, check_id: str, check: Check) -> Result:
    try:
        return check(session)
    except Undecidable as exc:
        return not_applicable(check_id, str(exc))
    except (ClientProbeError, AgentError, httpx.HTTPError) as exc:
        return not_applicable(check_id, f"could not run: {exc}")

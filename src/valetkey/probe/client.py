"""`valetkey probe client`: run the LC checks against a client app that uses the sandbox."""

from __future__ import annotations

from collections.abc import Callable, Iterable

import httpx

from valetkey.probe.agent import AgentError
from valetkey.probe.client_checks import CLIENT_CHECKS
from valetkey.probe.client_session import ClientProbeError, ClientProbeSession, ClientTarget
from valetkey.probe.report import Result, not_applicable


def run_client_probe(
    target: ClientTarget,
    only: Iterable[str] | None = None,
    progress: Callable[[str], None] | None = None,
) -> list[Result]:
    wanted = {item.strip().upper() for item in only} if only else None
    session = ClientProbeSession(target)
    results: list[Result] = []
    try:
        session.open()
        for check_id, check in sorted(CLIENT_CHECKS, key=lambda item: item[0]):
            if wanted is not None and check_id not in wanted:
                continue
            if progress is not None:
                progress(check_id)
            try:
                results.append(check(session))
            except (ClientProbeError, AgentError, httpx.HTTPError) as exc:
                results.append(not_applicable(check_id, f"could not run: {exc}"))
    finally:
        session.close()
    return results

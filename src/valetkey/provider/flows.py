"""Flow records: what each step of a flow sent, from whom to whom, and which checks ran.

Values are masked before they are stored: a record never holds a password, a client secret
or a whole token, only a short masked form or a fingerprint (a prefix of its SHA-256).

Inside `batch()` (the app opens one around each request) the records are kept and written
in one transaction when the request's handler returns, before the response goes out.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping, Sequence
from contextvars import ContextVar, Token

from valetkey.oauth.flow import FlowEvent
from valetkey.oauth.redaction import masked
from valetkey.oauth.vocabulary import Channel
from valetkey.provider.admin_state import Clock
from valetkey.provider.checks import CheckResult
from valetkey.provider.store.queries import Store
from valetkey.provider.store.records import FlowStart, FlowUpdate


def new_flow_id() -> str:
    return secrets.token_hex(8)


class FlowBatch:
    """`FlowRecorder.batch()`'s block (a plain context manager: it runs on every request)."""

    def __init__(self, recorder: FlowRecorder) -> None:
        self.recorder = recorder
        self.pending: list[FlowStart | FlowUpdate] = []
        self.token: Token[list[FlowStart | FlowUpdate] | None] | None = None

    def __enter__(self) -> None:
        self.token = self.recorder._pending.set(self.pending)

    def __exit__(self, kind: type[BaseException] | None, exc: object, tb: object) -> None:
        assert self.token is not None
        self.recorder._pending.reset(self.token)
        if kind is None and self.pending:
            self.recorder.store.save_flow_records(self.pending)


class FlowRecorder:
    def __init__(self, store: Store, clock: Clock, retention: int, days: int) -> None:
        self.store = store
        self.clock = clock
        self.retention = retention
        self.days = days
        self._started = 0
        self._pending: ContextVar[list[FlowStart | FlowUpdate] | None] = ContextVar(
            f"valetkey_flow_records_{id(self)}", default=None
        )

    def batch(self) -> FlowBatch:
        """Keep the records made inside; store them together when the block ends normally."""
        return FlowBatch(self)

    def _save(self, record: FlowStart | FlowUpdate) -> None:
        pending = self._pending.get()
        if pending is None:
            self.store.save_flow_records([record])
        else:
            pending.append(record)

    def start(self, client_id: str) -> str:
        flow_id = new_flow_id()
        self._save(FlowStart(flow_id, client_id[:255], self.clock.now()))
        self._started += 1
        if self._started % 100 == 1:  # at start-up, then every hundred flows
            self.prune()
        return flow_id

    def prune(self) -> int:
        return self.store.prune_flows(self.retention, self.clock.now() - self.days * 86400)

    def record(
        self,
        flow_id: str,
        step: str,
        route: tuple[str, str, Channel],
        summary: str,
        params: Mapping[str, str | None] | None = None,
        checks: Sequence[CheckResult] = (),
        *,
        carried_password: bool = False,
        outcome: str | None = None,
        user_id: int | None = None,
    ) -> None:
        sender, receiver, channel = route
        event = FlowEvent(
            flow_id=flow_id,
            at=self.clock.now(),
            step=step,
            sender=sender,
            receiver=receiver,
            channel=channel,
            summary=summary,
            params=masked(params or {}),
            checks=[result.as_dict() for result in checks],
            carried_password=carried_password,
        )
        self._save(FlowUpdate(event, outcome, user_id))

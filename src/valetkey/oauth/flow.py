"""The flow model: one message of an OAuth flow, as the sandbox records it and the trace draws it.

The provider's flow recorder fills these in and its store persists them; `valetkey.trace`
renders them (text, SVG, Mermaid, JSON) and `valetkey demo` reads them back over the
inspector's JSON view. Values in `params` and `checks` are already redacted: no password,
secret or whole token is ever put in one.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class FlowEvent:
    flow_id: str
    at: float
    step: str
    sender: str
    receiver: str
    channel: str  # "front" or "back"
    summary: str
    params: dict[str, str]
    checks: list[dict[str, str]]
    carried_password: bool

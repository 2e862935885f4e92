"""From a flow's stored events to what the pictures need: arrows, notes, Mermaid, text."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict

from valetkey.oauth.flow import FlowEvent
from valetkey.oauth.vocabulary import PARTICIPANT_NAMES, PARTICIPANTS, STEP_BY_ID
from valetkey.trace.diagram import Arrow, CheckMark, render_svg

NAMES = PARTICIPANT_NAMES


def _number(step: str) -> int:
    known = STEP_BY_ID.get(step)
    return known.number if known else 0


def _label(step: str) -> str:
    known = STEP_BY_ID.get(step)
    return known.label if known else step


def check_marks(event: FlowEvent) -> tuple[CheckMark, ...]:
    """The checks the sandbox recorded on one message, as the diagram marks them."""
    return tuple(
        CheckMark(
            c.get("id", ""), c.get("clause", ""), c.get("title", ""), c.get("result") == "pass"
        )
        for c in event.checks
    )


def arrows(events: Sequence[FlowEvent]) -> list[Arrow]:
    result = []
    for event in events:
        checks = check_marks(event)
        detail = ", ".join(f"{k}={v}" for k, v in event.params.items())
        result.append(
            Arrow(
                step=_number(event.step),
                sender=event.sender,
                receiver=event.receiver,
                label=_label(event.step),
                detail=detail,
                channel="back" if event.channel == "back" else "front",
                carried_password=event.carried_password,
                failed=any(not c.passed for c in checks),
                checks=checks,
            )
        )
    return result


def password_note(events: Sequence[FlowEvent]) -> str:
    carrying = [e for e in events if e.carried_password]
    if not carrying:
        return "No message of this flow carried the password."
    places = {(NAMES.get(e.sender, e.sender), NAMES.get(e.receiver, e.receiver)) for e in carrying}
    if places == {(NAMES["browser"], NAMES["authorization_server"])}:
        return (
            f"The password was sent {len(carrying)} time(s), only from the browser to the "
            "authorization server's login page; the client never saw it."
        )
    where = "; ".join(f"{a} to {b}" for a, b in sorted(places))
    return f"The password went: {where}."


def stopped_note(events: Sequence[FlowEvent]) -> str:
    """Where and why a failed flow stopped, or an empty string."""
    for event in events:
        for check in event.checks:
            if check.get("result") == "fail":
                name = check.get("id") or check.get("clause", "")
                return (
                    f"Stopped at step {_number(event.step) or '?'} "
                    f"({_label(event.step)}): {name} failed: "
                    f"{check.get('detail', '')}"
                )
        if event.params.get("error"):
            return f"Stopped: the authorization server answered {event.params['error']}."
    return ""


def svg(events: Sequence[FlowEvent], title: str, docs: str = "") -> str:
    return render_svg(arrows(events), title, password_note(events), docs)


def mermaid(events: Sequence[FlowEvent]) -> str:
    """A Mermaid sequenceDiagram: solid arrows for the front channel, dotted for the back."""
    lines = ["sequenceDiagram"]
    for participant in PARTICIPANTS:
        lines.append(f"    participant {participant.id} as {participant.name}")
    for arrow in arrows(events):
        line = "->>" if arrow.channel == "front" else "-->>"
        text = _mermaid_text(f"{arrow.step}. {arrow.label}")
        lines.append(f"    {arrow.sender}{line}{arrow.receiver}: {text}")
        if arrow.carried_password:
            lines.append(f"    Note over {arrow.sender},{arrow.receiver}: carries the password")
        failed = [c.id or c.clause for c in arrow.checks if not c.passed]
        if failed:
            lines.append(
                f"    Note right of {arrow.receiver}: "
                f"{_mermaid_text('check failed: ' + ', '.join(failed))}"
            )
    lines.append(f"    Note over browser,resource_server: {_mermaid_text(password_note(events))}")
    return "\n".join(lines) + "\n"


def _mermaid_text(text: str) -> str:
    """Mermaid message text: no line breaks, no `;` or `#` (its statement and entity marks)."""
    return text.replace("\n", " ").replace(";", ",").replace("#", "no. ")


def text(events: Sequence[FlowEvent]) -> str:
    lines = []
    for arrow in arrows(events):
        mark = "  [password]" if arrow.carried_password else ""
        lines.append(
            f"{arrow.step}. {NAMES.get(arrow.sender, arrow.sender)} -> "
            f"{NAMES.get(arrow.receiver, arrow.receiver)} ({arrow.channel} channel): "
            f"{arrow.label}{mark}"
        )
        if arrow.detail:
            lines.append(f"     {arrow.detail}")
        for check in arrow.checks:
            lines.append(
                f"     {'pass' if check.passed else 'FAIL'} {check.id or '-':<6} "
                f"{check.title} ({check.clause})"
            )
    lines.append(password_note(events))
    stopped = stopped_note(events)
    if stopped:
        lines.append(stopped)
    return "\n".join(lines) + "\n"


def as_json(flow: dict[str, object], events: Sequence[FlowEvent]) -> str:
    return json.dumps(
        {"flow": flow, "events": [asdict(e) for e in events], "password": password_note(events)},
        indent=2,
        default=str,
    )

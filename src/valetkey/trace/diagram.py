"""A sequence diagram of one flow as SVG: a lifeline per participant, one arrow per message.

Front-channel messages (through the browser) are solid, back-channel ones dashed; the arrow
that carried the password is drawn in red and says so; failed checks are marked. The SVG
has a <title> and <desc> and every arrow has a text label, so it reads without the picture.
"""

from __future__ import annotations

import textwrap
from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

from valetkey.oauth.vocabulary import PARTICIPANTS, Channel, Participant

LANE = 230
LEFT = 120
ROW = 58
TOP = 96


@dataclass(frozen=True)
class CheckMark:
    id: str
    clause: str
    title: str
    passed: bool


@dataclass(frozen=True)
class Arrow:
    step: int
    sender: str
    receiver: str
    label: str
    detail: str
    channel: Channel
    carried_password: bool = False
    failed: bool = False
    checks: tuple[CheckMark, ...] = ()


Participants = Sequence[Participant]


def _x(participant: str, participants: Participants) -> int:
    names = [p.id for p in participants]
    return LEFT + LANE * names.index(participant)


def _header(width: int, height: int, title: str, desc: str) -> list[str]:
    return [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img" aria-labelledby="t d" '
        'font-family="system-ui, sans-serif" font-size="13">',
        f'<title id="t">{escape(title)}</title>',
        f'<desc id="d">{escape(desc)}</desc>',
        '<defs><marker id="a" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="8" '
        'markerHeight="8" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" '
        'fill="context-stroke"/></marker></defs>',
        f'<rect width="{width}" height="{height}" fill="#fff"/>',
    ]


def _lifelines(height: int, participants: Participants) -> list[str]:
    parts = []
    for participant in participants:
        name, label, sub = participant.id, participant.name, participant.note
        x = _x(name, participants)
        parts.append(
            f'<rect x="{x - 100}" y="16" width="200" height="50" rx="8" '
            'fill="#f1f5f9" stroke="#94a3b8"/>'
        )
        parts.append(
            f'<text x="{x}" y="38" text-anchor="middle" font-weight="700">{escape(label)}</text>'
        )
        parts.append(
            f'<text x="{x}" y="56" text-anchor="middle" fill="#475569">{escape(sub)}</text>'
        )
        parts.append(
            f'<line x1="{x}" y1="66" x2="{x}" y2="{height - 50}" stroke="#cbd5e1" '
            'stroke-dasharray="4 4"/>'
        )
    return parts


CHECKS_WIDTH = 300


def _width(participants: Participants) -> int:
    return LEFT * 2 + LANE * (len(participants) - 1)


def _badge(check: CheckMark, docs: str) -> str:
    name = check.id or check.clause
    color = "#15803d" if check.passed else "#b91c1c"
    label = f"{'✓' if check.passed else '✗'} {name}"
    tip = escape(f"{name}: {check.title} ({check.clause})")
    anchor = escape(name.replace(" ", "-"))
    return (
        f'<a href="{docs}#{anchor}"><tspan fill="{color}">{escape(label)}</tspan>'
        f"<title>{tip}</title></a>"
    )


def _checks(y: int, arrow: Arrow, docs: str, left: int) -> list[str]:
    """The checks that ran on this message, as linked badges in a column at the right:
    failures first, then catalogue ids, four to a line, two lines at most."""
    ordered = sorted(arrow.checks, key=lambda c: (c.passed, not c.id))
    shown = ordered[:8]
    lines = [shown[:4], shown[4:8]]
    parts = []
    for offset, line in zip((-2, 12), lines, strict=True):
        if line:
            badges = "  ".join(_badge(check, docs) for check in line)
            parts.append(f'<text x="{left}" y="{y + offset}" font-size="11">{badges}</text>')
    if len(ordered) > 8:
        parts.append(
            f'<text x="{left}" y="{y + 26}" font-size="10" fill="#475569">'
            f"+{len(ordered) - 8} more checks passed</text>"
        )
    return parts


def _arrow(index: int, arrow: Arrow, docs: str, participants: Participants) -> list[str]:
    y = TOP + ROW * index
    x1, x2 = _x(arrow.sender, participants), _x(arrow.receiver, participants)
    color = "#dc2626" if arrow.carried_password else ("#b45309" if arrow.failed else "#0f172a")
    dash = ' stroke-dasharray="7 5"' if arrow.channel == "back" else ""
    label = f"{arrow.step}. {arrow.label}"
    if arrow.carried_password:
        label += "  [carries the password]"
    if arrow.failed:
        label += "  [check failed]"
    middle = (x1 + x2) / 2
    return [
        f'<g class="message" data-step="{arrow.step}" data-channel="{arrow.channel}"'
        f' data-password="{str(arrow.carried_password).lower()}">',
        f'<line x1="{x1}" y1="{y}" x2="{x2}" y2="{y}" stroke="{color}" stroke-width="2"'
        f'{dash} marker-end="url(#a)"/>',
        f'<text x="{middle}" y="{y - 8}" text-anchor="middle" fill="{color}" '
        f'font-weight="600">{escape(label)}</text>',
        f'<text x="{middle}" y="{y + 17}" text-anchor="middle" fill="#475569" '
        f'font-size="11">{escape(arrow.detail[:110])}</text>',
        *(_checks(y, arrow, docs, _width(participants) - 20) if arrow.checks else []),
        "</g>",
    ]


def render_svg(
    arrows: Sequence[Arrow],
    title: str,
    note: str,
    docs: str = "",
    participants: Participants = PARTICIPANTS,
) -> str:
    """The whole diagram; `note` is printed under it (e.g. where the password went); with
    checks on the arrows a column lists them, each linking to `docs#ID`. `participants`:
    the lifelines, left to right (the OAuth four, or MCP's)."""
    width = _width(participants)
    if any(arrow.checks for arrow in arrows):
        width += CHECKS_WIDTH
    lines = textwrap.wrap(note, width // 8) or [""]  # ~8 px per bold character at 13 px
    height = TOP + ROW * len(arrows) + 52 + 18 * len(lines)
    desc = "; ".join(f"{a.step}. {a.sender} to {a.receiver}: {a.label}" for a in arrows)
    parts = _header(width, height, title, desc) + _lifelines(
        height - 18 * (len(lines) - 1), participants
    )
    for index, arrow in enumerate(arrows):
        parts.extend(_arrow(index, arrow, docs, participants))
    for index, line in enumerate(lines):
        y = height - 22 - 18 * (len(lines) - 1 - index)
        parts.append(
            f'<text x="{width / 2}" y="{y}" text-anchor="middle" '
            f'font-weight="600">{escape(line)}</text>'
        )
    parts.append("</svg>")
    return "\n".join(parts)

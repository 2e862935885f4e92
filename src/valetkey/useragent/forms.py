"""HTML forms as data: enough of a browser's form model to drive login and consent pages
the agent has never seen (the standard library's HTMLParser, no scripts run)."""

from __future__ import annotations

from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import urljoin

ALLOW_WORDS = (
    "allow",
    "approve",
    "accept",
    "authorize",
    "authorise",
    "yes",
    "grant",
    "continue",
    "confirm",
    "consent",
)
DENY_WORDS = ("deny", "cancel", "reject", "decline", "no", "abort")


@dataclass
class Control:
    tag: str
    name: str
    type: str
    value: str
    label: str = ""


@dataclass
class Form:
    action: str
    method: str
    controls: list[Control] = field(default_factory=list)

    def has_password(self) -> bool:
        return any(c.type == "password" for c in self.controls)

    def fields(self) -> list[tuple[str, str]]:
        """Hidden and text inputs with their current values (no buttons)."""
        return [
            (c.name, c.value)
            for c in self.controls
            if c.tag == "input"
            and c.name
            and c.type not in ("submit", "button", "image", "checkbox", "radio")
        ]

    def submits(self) -> list[Control]:
        return [c for c in self.controls if c.type == "submit"]


class _Parser(HTMLParser):
    def __init__(self, base: str) -> None:
        super().__init__(convert_charrefs=True)
        self.base = base
        self.forms: list[Form] = []
        self._button: Control | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form":
            self.forms.append(
                Form(
                    urljoin(self.base, a.get("action") or self.base),
                    (a.get("method") or "get").upper(),
                )
            )
        elif tag == "input" and self.forms:
            kind = (a.get("type") or "text").lower()
            self.forms[-1].controls.append(
                Control("input", a.get("name", ""), kind, a.get("value", ""), a.get("value", ""))
            )
        elif tag == "button" and self.forms:
            self._button = Control(
                "button", a.get("name", ""), (a.get("type") or "submit").lower(), a.get("value", "")
            )
            self.forms[-1].controls.append(self._button)

    def handle_data(self, data: str) -> None:
        if self._button is not None:
            self._button.label += data.strip()

    def handle_endtag(self, tag: str) -> None:
        if tag == "button":
            self._button = None


def parse_forms(html: str, base: str) -> list[Form]:
    parser = _Parser(base)
    parser.feed(html)
    return parser.forms


def _means(control: Control, words: tuple[str, ...]) -> bool:
    text = f"{control.label} {control.value} {control.name}".lower()
    return any(word in text.split() or text.startswith(word) for word in words)


def allow_button(form: Form) -> Control | None:
    """The submit control whose label or value means allow (never one that means deny)."""
    for control in form.submits():
        if _means(control, ALLOW_WORDS) and not _means(control, DENY_WORDS):
            return control
    return None


def pressing(form: Form, value: str) -> Control | None:
    """The submit control that sends exactly `value` (a named choice such as deny or allow)."""
    return next((c for c in form.submits() if c.name and c.value == value), None)


def deny_button(form: Form) -> Control | None:
    """The submit control whose label or value means deny (never one that means allow)."""
    for control in form.submits():
        if _means(control, DENY_WORDS) and not _means(control, ALLOW_WORDS):
            return control
    return None

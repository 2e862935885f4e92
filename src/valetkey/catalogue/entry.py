"""What one catalogue entry holds: the id, its family, title, severity, clause, the rule,
the attack it stops, a bad and a good example, the fix and the references."""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass

# "RFC 6749 §10.12, §4.1" -> one link per section; "RFC 9207" alone -> the document
_RFC = r"RFC (\d{4})((?:,? ?§[\d.]+)*)"
_SECTION = r"§([\d.]+)"
_MCP = r"MCP (authorization|transports) \((\d{4}-\d\d-\d\d)\)"
_MCP_PAGES = {"authorization": "basic/authorization", "transports": "basic/transports"}
# specs without numbered anchors: one link to the document
_DOCUMENTS = {
    "OIDC Core": "https://openid.net/specs/openid-connect-core-1_0.html",
    "OIDC Discovery": "https://openid.net/specs/openid-connect-discovery-1_0.html",
}


class Severity(enum.IntEnum):
    """How bad a failure is; ordered so that a threshold (`--fail-on`) can compare."""

    LOW = 1
    MEDIUM = 2
    HIGH = 3

    @property
    def label(self) -> str:
        return self.name.lower()

    @classmethod
    def parse(cls, text: str) -> Severity:
        return cls[text.upper()]


class Family(enum.Enum):
    """The four families of ids, each checked by one part of valetkey."""

    AS = ("AS", "authorization server", "valetkey probe server")
    LC = ("LC", "client app", "valetkey probe client")
    OA = ("OA", "Python source", "valetkey audit")
    MS = ("MS", "MCP server", "valetkey probe mcp-server")

    def __init__(self, prefix: str, subject: str, command: str) -> None:
        self.prefix = prefix
        self.subject = subject
        self.command = command

    def canonical(self, number: int) -> str:
        """`OA103` for the auditor's ids, `AS-03` (two digits, a dash) for the others."""
        return f"OA{number}" if self is Family.OA else f"{self.prefix}-{number:02d}"


@dataclass(frozen=True)
class Example:
    """A short illustration: an HTTP exchange or a few lines of Python (`language`)."""

    language: str  # "http" or "python"
    text: str


@dataclass(frozen=True)
class Entry:
    """One check id and its meaning. Ids never change meaning; a retired id keeps its entry."""

    id: str
    slug: str
    title: str
    severity: Severity
    clause: str
    what: str
    why: str
    bad: Example
    good: Example
    fix: str
    references: tuple[str, ...] = ()
    planned: bool = False  # no valetkey part implements it yet

    @property
    def family(self) -> Family:
        return Family[self.id[:2]]

    @property
    def anchor(self) -> str:
        """The entry's anchor in docs/checks.md (its heading is the bare id)."""
        return self.id.lower()

    def links(self) -> tuple[str, ...]:
        """The given references, else links derived from the clause (`spec_links`)."""
        return self.references or spec_links(self.clause)


def spec_links(clause: str) -> tuple[str, ...]:
    """One rfc-editor.org link per RFC section; the OIDC and MCP documents the clause cites."""
    links = list(rfc_links(clause))
    links += [url for name, url in _DOCUMENTS.items() if name in clause]
    links += [
        f"https://modelcontextprotocol.io/specification/{rev}/{_MCP_PAGES[page]}"
        for page, rev in re.findall(_MCP, clause)
    ]
    return tuple(links)


def rfc_links(clause: str) -> tuple[str, ...]:
    links: list[str] = []
    for match in re.finditer(_RFC, clause):
        base = f"https://www.rfc-editor.org/rfc/rfc{match.group(1)}"
        sections = re.findall(_SECTION, match.group(2))
        if sections:
            links.extend(f"{base}#section-{s}" for s in sections)
        else:
            links.append(base)
    return tuple(links)

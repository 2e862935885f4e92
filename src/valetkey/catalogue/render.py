"""An entry as text (the terminal), Markdown (docs/checks.md, `--format markdown`) or JSON.

One function per format, so `valetkey explain`, `valetkey audit --explain`, the generated
reference and the sandbox's entry pages all say the same thing.
"""

from __future__ import annotations

import textwrap
from typing import Any

from valetkey.catalogue.entry import Entry

DOC_PATH = "docs/checks.md"
WIDTH = 92
PLANNED = "planned: no part of valetkey checks this yet (it waits for the MCP probe)"


def doc_link(entry: Entry) -> str:
    """Where the entry is documented: the generated reference, at the entry's anchor."""
    return f"{DOC_PATH}#{entry.anchor}"


def header(entry: Entry) -> str:
    return f"{entry.id} {entry.slug}  (severity: {entry.severity.label}; {entry.clause})"


def checked_by(entry: Entry) -> str:
    return PLANNED if entry.planned else entry.family.command


def _paragraph(label: str, text: str) -> str:
    return textwrap.fill(f"{label}: {text}", WIDTH, break_on_hyphens=False)


def _block(label: str, text: str) -> str:
    return f"{label}:\n" + textwrap.indent(text.rstrip("\n"), "    ")


def to_text(entry: Entry, detail: str = "") -> str:
    """The terminal form; `detail` is what the family's implementation adds (the auditor's
    exact detection rules), printed after the rule."""
    parts = [f"{header(entry)}\n{entry.title}", _paragraph("What", entry.what)]
    if detail.strip():
        parts.append(detail.strip())
    parts += [_paragraph("Why", entry.why), _block("Bad", entry.bad.text)]
    parts += [_block("Good", entry.good.text), _paragraph("Fix", entry.fix)]
    refs = "\n".join(f"  {url}" for url in entry.links())
    tail = [f"Checked by: {checked_by(entry)}"]
    tail += [f"References:\n{refs}"] if refs else []
    tail.append(f"Docs: {doc_link(entry)}")
    return "\n\n".join(parts) + "\n\n" + "\n".join(tail) + "\n"


def _fenced(example_text: str, language: str) -> str:
    return f"```{language}\n{example_text.rstrip(chr(10))}\n```"


def to_markdown(entry: Entry, heading: str = "###") -> str:
    """One section of docs/checks.md: the bare id as heading, so its anchor is the id."""
    refs = ", ".join(f"<{url}>" for url in entry.links())
    meta = (
        f"`{entry.slug}` · severity **{entry.severity.label}** · {entry.clause} · "
        f"checked by {'(' + PLANNED + ')' if entry.planned else '`' + entry.family.command + '`'}"
    )
    parts = [
        f"{heading} {entry.id}",
        f"**{entry.title}**",
        meta,
        f"**What.** {entry.what}",
        f"**Why.** {entry.why}",
        "Bad:",
        _fenced(entry.bad.text, entry.bad.language),
        "Good:",
        _fenced(entry.good.text, entry.good.language),
        f"**Fix.** {entry.fix}",
    ]
    if refs:
        parts.append(f"References: {refs}")
    return "\n\n".join(parts) + "\n"


def to_json(entry: Entry) -> dict[str, Any]:
    return {
        "id": entry.id,
        "family": entry.family.prefix,
        "slug": entry.slug,
        "title": entry.title,
        "severity": entry.severity.label,
        "clause": entry.clause,
        "what": entry.what,
        "why": entry.why,
        "bad": {"language": entry.bad.language, "text": entry.bad.text},
        "good": {"language": entry.good.language, "text": entry.good.text},
        "fix": entry.fix,
        "references": list(entry.links()),
        "status": "planned" if entry.planned else "implemented",
        "checked_by": checked_by(entry),
        "doc": doc_link(entry),
    }

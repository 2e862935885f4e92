"""Generate docs/checks.md from the catalogue: `python -m valetkey.catalogue.docs > docs/checks.md`
(or `make docs`). A test fails when the committed file differs from what this prints."""

from __future__ import annotations

import sys

from valetkey import catalogue
from valetkey.catalogue.entry import Family
from valetkey.catalogue.render import to_markdown

COMMAND = "python -m valetkey.catalogue.docs > docs/checks.md"

INTRO = f"""\
# The check catalogue

<!-- generated from src/valetkey/catalogue; do not edit. Regenerate: `make docs`
     (which runs `{COMMAND}`) -->

Every check valetkey runs has a stable id. An id keeps its meaning for good; a retired check
keeps its number. The same ids appear in the sandbox's flow inspector, in probe reports and
in audit findings, and `valetkey explain ID` prints any entry below in the terminal
(`--format markdown` or `json` for other tools, `--list` for the index).

| family | what it checks | run by |
|---|---|---|
""" + "".join(f"| {f.prefix} | {f.subject} | `{f.command}` |\n" for f in Family)

HEADINGS = {
    Family.AS: "Authorization servers (AS)",
    Family.LC: "Client apps (LC)",
    Family.OA: "Python source (OA)",
    Family.MS: "MCP servers (MS)",
}


def _index(family: Family) -> str:
    rows = [
        f"| [{e.id}](#{e.anchor}) | {e.slug} | {e.severity.label} | {e.title} |"
        for e in catalogue.entries(family)
    ]
    return "| id | slug | severity | title |\n|---|---|---|---|\n" + "\n".join(rows) + "\n"


def generate() -> str:
    parts = [INTRO]
    for family in Family:
        parts.append(f"## {HEADINGS[family]}\n\n{_index(family)}")
        parts += [to_markdown(entry) for entry in catalogue.entries(family)]
    return "\n".join(parts)


def main() -> None:
    sys.stdout.write(generate())


if __name__ == "__main__":
    main()

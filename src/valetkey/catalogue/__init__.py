"""The check catalogue: every id valetkey uses (AS, LC, OA, MS), with its meaning.

The entries are data, one module per family; the sandbox's checks, the probes and the
auditor register against them, and fail at import when they name an id that is not here.
`valetkey explain ID` prints an entry; docs/checks.md is generated from them
(`python -m valetkey.catalogue.docs`).
"""

from __future__ import annotations

import functools
import importlib
import re

from valetkey.catalogue.entry import Entry, Example, Family, Severity

__all__ = [
    "Entry",
    "Example",
    "Family",
    "Severity",
    "UnknownCheckId",
    "closest",
    "entries",
    "lookup",
    "normalise",
    "require",
]

# each family's entries live in their own module, imported when first asked for
_MODULES = {
    Family.AS: "valetkey.catalogue.authorization_server",
    Family.LC: "valetkey.catalogue.client_app",
    Family.OA: "valetkey.catalogue.python_source",
    Family.MS: "valetkey.catalogue.mcp_server",
}
_ID = re.compile(r"\s*([A-Za-z]{2})-?(\d{1,3})\s*")


class UnknownCheckId(LookupError):
    """An id that the catalogue does not hold."""


@functools.cache
def _family(family: Family) -> dict[str, Entry]:
    module = importlib.import_module(_MODULES[family])
    found: tuple[Entry, ...] = module.ENTRIES
    return {entry.id: entry for entry in found}


def entries(family: Family | None = None) -> list[Entry]:
    """The entries of one family, or of all of them, in catalogue order."""
    families = [family] if family is not None else list(Family)
    return [entry for f in families for entry in _family(f).values()]


def normalise(text: str) -> str:
    """`as-23`, `AS23` and `as-023` -> `AS-23`; `oa103`, `OA-103` -> `OA103`; else as given."""
    match = _ID.fullmatch(text)
    if match is None or match.group(1).upper() not in Family.__members__:
        return text.strip()
    return Family[match.group(1).upper()].canonical(int(match.group(2)))


def lookup(text: str) -> Entry | None:
    """The entry for an id written in any case, or None."""
    canonical = normalise(text)
    prefix = canonical[:2]
    if prefix not in Family.__members__:
        return None
    return _family(Family[prefix]).get(canonical)


def closest(text: str, n: int = 3) -> list[str]:
    """The known ids nearest to a mistyped one: by number within its family, else by spelling."""
    match = _ID.fullmatch(text)
    if match is not None and match.group(1).upper() in Family.__members__:
        number = int(match.group(2))
        family = entries(Family[match.group(1).upper()])
        by_distance = sorted(family, key=lambda e: (abs(_number(e.id) - number), e.id))
        return [entry.id for entry in by_distance[:n]]
    import difflib  # only for a mistyped id

    ids = [entry.id for entry in entries()]
    return difflib.get_close_matches(text.strip().upper(), ids, n=n, cutoff=0.5)


def _number(check_id: str) -> int:
    return int(check_id.lstrip("ASLCOM-"))


def require(check_id: str, family: Family, where: str) -> Entry:
    """The entry a check implementation names; raises at import time when there is none."""
    entry = lookup(check_id)
    if entry is None or entry.id != check_id or entry.family is not family:
        hint = ", ".join(closest(check_id)) or "none"
        raise UnknownCheckId(
            f"{where} names check id {check_id!r}, which is not a {family.prefix} id of the "
            f"check catalogue (valetkey.catalogue); closest: {hint}. Add its entry or fix the id."
        )
    return entry

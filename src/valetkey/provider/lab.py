"""Lab switches: named, deliberately insecure behaviours of the sandbox, for teaching and testing.

None is on by default. Each one that is on puts a warning banner on every page and a warning
line in the log at every request, so nobody mistakes a lab sandbox for a strict one.
"""

from __future__ import annotations

import enum


class LabSwitch(enum.Enum):
    """One insecure behaviour; the value is the name used on the command line."""

    WEAK_PASSWORD_HASH = "weak-password-hash"  # noqa: S105 (a switch name)
    LOOSE_REDIRECT = "loose-redirect"

    @property
    def warning(self) -> str:
        return LAB_WARNINGS[self]


LAB_WARNINGS: dict[LabSwitch, str] = {
    LabSwitch.WEAK_PASSWORD_HASH: (
        "passwords are hashed with argon2id at 1 MiB and 1 pass, far below RFC 9106's "
        "recommendations, so that load tests can run thousands of logins"
    ),
    LabSwitch.LOOSE_REDIRECT: (
        "redirect URIs are matched by prefix, not exactly, at the authorization and token "
        "endpoints, so a code can be sent to a URI the client never registered"
    ),
}


def parse_lab_switches(key: str, text: str) -> frozenset[LabSwitch]:
    """Comma- or space-separated switch names; an unknown name is an error naming the choices."""
    names = [name for name in text.replace(",", " ").split() if name]
    switches: set[LabSwitch] = set()
    known = {switch.value: switch for switch in LabSwitch}
    for name in names:
        if name not in known:
            choices = ", ".join(sorted(known))
            raise ValueError(f"{key}={text!r}: unknown lab switch {name!r} (choose from {choices})")
        switches.add(known[name])
    return frozenset(switches)

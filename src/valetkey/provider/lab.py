"""Lab switches: named, deliberately insecure behaviours of the sandbox, for teaching and testing.

None is on by default. Each one that is on puts a warning banner on every page and a warning
line in the log at every request, so nobody mistakes a lab sandbox for a strict one.

Everything a switch does is declared here: its warning (`LAB_WARNINGS`) and, for a switch that
relaxes request checks, how it changes the check tables (`CHANGES`). The strict checks know
nothing of the switches. A change is `Drop(check)` or `Wrap(check, variant)`; a variant gets
the check that is in the slot when it is applied (the strict one, or another switch's
variant), so switches that relax the same check compose: with no-pkce and plain-pkce both on,
a missing challenge is fine and a plain one is checked as plain. Behaviours outside the
checks (how codes are made, whether `iss` is sent, how passwords are hashed) read the switch
where they happen.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from valetkey.provider.checks import Check, Table, lab_variants, rfc6749, rfc7636, rfc9700


class LabSwitch(enum.Enum):
    """One insecure behaviour; the value is the name used on the command line."""

    WEAK_PASSWORD_HASH = "weak-password-hash"  # noqa: S105 (a switch name)
    LOOSE_REDIRECT = "loose-redirect"
    NO_PKCE = "no-pkce"
    PLAIN_PKCE = "plain-pkce"
    IMPLICIT = "implicit"
    CODE_REUSE = "code-reuse"
    NO_REFRESH_ROTATION = "no-refresh-rotation"
    NO_ISS = "no-iss"
    WEAK_CODES = "weak-codes"
    FRAMING = "framing"
    OPEN_REDIRECT_ON_ERROR = "open-redirect-on-error"
    PROBE_MODE = "probe-mode"

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
    LabSwitch.NO_PKCE: (
        "PKCE is optional and never checked, so a stolen code can be redeemed without the verifier"
    ),
    LabSwitch.PLAIN_PKCE: (
        "code_challenge_method=plain is accepted, so the challenge seen in the front channel "
        "is the verifier itself"
    ),
    LabSwitch.IMPLICIT: (
        "response_type token, id_token and id_token token are accepted: access and ID tokens "
        "travel through the browser, in the URL fragment or a self-submitting form (form_post), "
        "within reach of its history and any script on the page"
    ),
    LabSwitch.CODE_REUSE: "authorization codes can be redeemed more than once",
    LabSwitch.NO_REFRESH_ROTATION: (
        "refresh tokens are not rotated and a replayed one is not detected"
    ),
    LabSwitch.NO_ISS: (
        "authorization responses carry no iss (RFC 9207), so a client cannot tell which "
        "provider answered (mix-up attacks)"
    ),
    LabSwitch.WEAK_CODES: "authorization codes are six digits, guessable by brute force",
    LabSwitch.FRAMING: ("the login and consent pages may be framed by any site (clickjacking)"),
    LabSwitch.OPEN_REDIRECT_ON_ERROR: (
        "authorization errors are redirected to the request's redirect_uri even when it is "
        "not registered: an open redirector"
    ),
    LabSwitch.PROBE_MODE: (
        "probe mode: the /probe control API lets whoever holds the admin token see the back "
        "channel and make the next token or authorization response a forgery"
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


@dataclass(frozen=True)
class Drop:
    target: Check[Any]

    def __call__(self, table: Table[Any]) -> Table[Any]:
        return table.drop(self.target)


@dataclass(frozen=True)
class Wrap:
    target: Check[Any]
    variant: Callable[[Check[Any]], Check[Any]]

    def __call__(self, table: Table[Any]) -> Table[Any]:
        return table.wrap(self.target, self.variant)


Change = Drop | Wrap


# -- how the switches change the check tables ---------------------------------------------

CHANGES: dict[LabSwitch, tuple[Change, ...]] = {
    LabSwitch.LOOSE_REDIRECT: (
        Wrap(rfc6749.redirect_uri_exact, lab_variants.prefix_redirect_uri),
        Wrap(rfc6749.redirect_uri_safe_scheme, lab_variants.loose_scheme),
        Wrap(rfc6749.redirect_uri_matches, lab_variants.prefix_token_redirect_uri),
    ),
    LabSwitch.NO_PKCE: (
        Drop(rfc7636.challenge_required),
        Wrap(rfc7636.challenge_well_formed, lab_variants.absent_challenge_ok),
        Drop(rfc7636.verifier_well_formed),
        Drop(rfc7636.verifier_matches),
        Drop(rfc7636.no_pkce_downgrade),
    ),
    LabSwitch.PLAIN_PKCE: (
        Wrap(rfc7636.challenge_method_s256, lab_variants.plain_method_ok),
        Wrap(rfc7636.challenge_well_formed, lab_variants.plain_challenge_shape),
        Wrap(rfc7636.verifier_matches, lab_variants.plain_verifier_ok),
    ),
    LabSwitch.IMPLICIT: (
        Wrap(rfc6749.response_type_code, lab_variants.implicit_response_type),
        Wrap(rfc7636.challenge_required, lab_variants.token_without_pkce),
        Wrap(rfc7636.challenge_well_formed, lab_variants.token_without_pkce),
    ),
    LabSwitch.CODE_REUSE: (Drop(rfc6749.code_not_used_before),),
    LabSwitch.NO_REFRESH_ROTATION: (Drop(rfc9700.refresh_token_not_replayed),),
}


def apply(table: Table[Any], switches: frozenset[LabSwitch]) -> Table[Any]:
    """`table` as the switches that are on change it (the strict table when none is). Each
    sandbox works this out once per table (`Provider.table`)."""
    for switch in LabSwitch:  # a fixed order, so the same switches give the same table
        if switch not in switches:
            continue
        for change in CHANGES.get(switch, ()):
            if table.has(change.target):
                table = change(table)
    return table

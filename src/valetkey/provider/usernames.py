"""Usernames: one written form per name, and no two names that look alike.

A username is stored in its display form (NFKC, surrounding white space stripped; Unicode
UAX #15 and the PRECIS UsernameCasePreserved profile, RFC 8265 §3.4, in spirit). Two names
are the same account name when their keys agree: the display form case-folded, with letters
that look like Latin ones (Cyrillic a U+0430, Greek o U+03BF ...) mapped to them (after UTS #39's
skeleton idea, on a small table). A name mixing scripts (Latin with Cyrillic, say) is refused.
"""

from __future__ import annotations

import unicodedata

MAX_LENGTH = 150

# Cyrillic and Greek letters that render like Latin ones (lower case, after casefold),
# written as escapes: the look-alikes themselves would be unreadable here
LOOK_ALIKES = str.maketrans(
    "\u0430\u0435\u043e\u0440\u0441\u0443\u0445\u0456\u0458\u0455\u0501\u04bb\u04cf\u051b\u051d\u0432"
    "\u043a\u043c\u043d\u0442\u03b1\u03bf\u03c1\u03bd\u03b9\u03ba\u03c4\u03c5\u03c7\u03b5\u03b2\u03b7",
    "aeopcyxijsdhlqwbkmhtaopviktuxebn",
)
SCRIPTS = ("LATIN", "CYRILLIC", "GREEK", "ARMENIAN", "CHEROKEE")


class UsernameError(ValueError):
    """The name cannot be an account name; the message says why."""


def display_form(name: str) -> str:
    """The form a username is stored and shown in: NFKC, surrounding space stripped."""
    return unicodedata.normalize("NFKC", name).strip()


def account_key(name: str) -> str:
    """What two usernames must not share: case-folded, look-alike letters mapped."""
    return display_form(name).casefold().translate(LOOK_ALIKES)


def _script(char: str) -> str | None:
    word = unicodedata.name(char, "").split(" ", 1)[0]
    return word if word in SCRIPTS else None


def validate(name: str) -> str:
    """The display form of an acceptable username, or UsernameError."""
    shown = display_form(name)
    if not 1 <= len(shown) <= MAX_LENGTH:
        raise UsernameError(f"username has 1 to {MAX_LENGTH} characters")
    if "/" in shown or any(unicodedata.category(c)[0] in "CZ" and c != " " for c in shown):
        raise UsernameError("username must not contain '/', control or format characters")
    scripts = {script for script in map(_script, shown) if script}
    if len(scripts) > 1:
        raise UsernameError(f"username mixes scripts ({', '.join(sorted(scripts))})")
    return shown

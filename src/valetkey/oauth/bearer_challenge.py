"""The text of a `WWW-Authenticate: Bearer` challenge (RFC 6750 §3), shared by the sandbox's
resource server and the reference MCP server."""

from __future__ import annotations


def quoted_param(text: str) -> str:
    """Text safe inside a quoted challenge parameter: printable ASCII without quote or
    backslash (RFC 6750 §3: error_description is %x20-21 / %x23-5B / %x5D-7E); anything else
    becomes `?`."""
    return "".join(c if " " <= c <= "~" and c not in '"\\' else "?" for c in text)


_TOKEN_CHARS = frozenset(
    "!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
)


def challenges(header: str) -> dict[str, dict[str, str]]:
    """Every challenge in a WWW-Authenticate value (RFC 9110 §11.6.1): scheme (lower-cased)
    to its auth-params (names lower-cased; values a token or a quoted-string with backslash
    escapes). A token68 is skipped; of a repeated scheme or name, the first wins."""
    found: dict[str, dict[str, str]] = {}
    current: dict[str, str] | None = None
    at = 0
    while at < len(header):
        if header[at] in " \t,":
            at += 1
            continue
        name, at = _token(header, at)
        if not name:  # a stray character (or a token68's padding): skip it
            at += 1
            continue
        after = _skip_space(header, at)
        if after < len(header) and header[after] == "=" and current is not None:
            value, at = _value(header, _skip_space(header, after + 1))
            current.setdefault(name.lower(), value)
        else:
            current = {}  # a new challenge; a repeated scheme's params are dropped
            found.setdefault(name.lower(), current)
    return found


def challenge_params(header: str, scheme: str = "Bearer") -> dict[str, str] | None:
    """The auth-params of the `scheme` challenge, or None when the header has none."""
    return challenges(header).get(scheme.lower())


def _token(text: str, at: int) -> tuple[str, int]:
    start = at
    while at < len(text) and text[at] in _TOKEN_CHARS:
        at += 1
    return text[start:at], at


def _skip_space(text: str, at: int) -> int:
    while at < len(text) and text[at] in " \t":
        at += 1
    return at


def _value(text: str, at: int) -> tuple[str, int]:
    if at < len(text) and text[at] == '"':
        chars, at = [], at + 1
        while at < len(text) and text[at] != '"':
            if text[at] == "\\" and at + 1 < len(text):
                at += 1
            chars.append(text[at])
            at += 1
        return "".join(chars), at + 1
    return _token(text, at)

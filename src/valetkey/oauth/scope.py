"""`Scope`: the one representation of an OAuth scope (RFC 6749 §3.3).

A scope is a set of case-sensitive scope tokens; on the wire it is the tokens joined by single
spaces. `Scope` keeps the order in which tokens first appeared (for display and for a stable
wire form) but compares as a set: `Scope.parse("a b") == Scope.parse("b a")`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator

# RFC 6749 §3.3: scope-token = 1*( %x21 / %x23-5B / %x5D-7E )
TOKEN = re.compile(r"[\x21\x23-\x5b\x5d-\x7e]+")


class ScopeError(ValueError):
    """The text is not a scope value as RFC 6749 §3.3 defines it."""


class Scope:
    """An immutable, ordered set of scope tokens."""

    __slots__ = ("_names", "_tokens")

    def __init__(self, tokens: Iterable[str] = ()) -> None:
        ordered = tuple(dict.fromkeys(tokens))
        for token in ordered:
            if TOKEN.fullmatch(token) is None:
                raise ScopeError(f"{token!r} is not a scope token (RFC 6749 §3.3)")
        self._tokens = ordered
        self._names = frozenset(ordered)

    @classmethod
    def parse(cls, text: str) -> Scope:
        """The wire form, strictly: tokens separated by single spaces (RFC 6749 §3.3).
        Repeated tokens collapse to one; an empty string is the empty scope."""
        if text == "":
            return cls()
        tokens = text.split(" ")
        if "" in tokens:
            raise ScopeError("scope must be names separated by single spaces (RFC 6749 §3.3)")
        return cls(tokens)

    @classmethod
    def lenient(cls, text: str) -> Scope:
        """Any run of whitespace separates tokens: for scopes typed on a command line or read
        back from valetkey's own store, never for a request's parameter."""
        return cls(text.split())

    def __str__(self) -> str:
        return " ".join(self._tokens)

    def __repr__(self) -> str:
        return f"Scope({str(self)!r})"

    def __iter__(self) -> Iterator[str]:
        return iter(self._tokens)

    def __len__(self) -> int:
        return len(self._tokens)

    def __contains__(self, token: object) -> bool:
        return token in self._names

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Scope):
            return self._names == other._names
        return NotImplemented

    def __hash__(self) -> int:
        return hash(self._names)

    def __le__(self, other: Scope) -> bool:
        return self._names <= other._names

    def __or__(self, other: Scope) -> Scope:
        return Scope((*self._tokens, *other._tokens))

    def __and__(self, other: Scope) -> Scope:
        return Scope(t for t in self._tokens if t in other._names)

    def __sub__(self, other: Scope) -> Scope:
        return Scope(t for t in self._tokens if t not in other._names)

    @property
    def names(self) -> frozenset[str]:
        return self._names

    def sorted(self) -> Scope:
        """The same scope in alphabetical order (a canonical wire form for storage)."""
        return Scope(sorted(self._tokens))

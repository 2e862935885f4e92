"""Abstract values of the data-flow analysis: where a value may come from (`Origin`s of a
`Kind`), its text when it is a known constant, the query or dict keys it carries, and a type
tag for objects of a modelled library. Values are immutable; `join` is their least upper
bound and `taint` keeps provenance only. Nothing here knows Python's AST beyond line numbers,
nor any library."""

from __future__ import annotations

import ast
import enum
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace


class Kind(enum.Enum):
    """Where a value may come from."""

    LITERAL = "a string literal"
    CSPRNG = "a CSPRNG"
    WEAK_RANDOM = "the non-cryptographic `random` module"
    TIME = "the clock"
    UUID1 = "uuid1 (time and MAC address)"
    UUID4 = "uuid4 (122 random bits)"
    HASH = "a hash"
    ENV = "the environment"
    ENV_DEFAULT = "a literal default of an environment lookup"
    REQUEST = "request data"
    COOKIE = "a request cookie"
    HEADER = "a request header"
    HOST = "the request's host"
    SESSION = "the session"
    TOKEN = "a token response"  # noqa: S105 - a provenance label, not a password
    OAUTH_DATA = "an OAuth API response"
    CLAIMS = "decoded token claims"
    UNVERIFIED = "an unverified token header or payload"
    FIELD = "a field of an OAuth response"
    PARAM = "a function parameter"
    INTERNAL_URL = "an internal URL"


@dataclass(frozen=True)
class Origin:
    """One source of a value, with where it appears in the file."""

    kind: Kind
    line: int
    col: int = 0
    key: str | None = None
    bits: int | None = None
    maybe_none: bool = False
    # passed through a call the analysis does not model: the result depends on the value
    # (its provenance still counts) but is not the value itself (not the token it was given)
    derived: bool = False

    @property
    def source(self) -> Origin:
        """The origin itself, whether or not it reached a value through an unknown call."""
        return replace(self, derived=False) if self.derived else self


@dataclass(frozen=True)
class Value:
    """An abstract value: what it may come from and what is known about it."""

    origins: frozenset[Origin] = frozenset()
    text: str | None = None
    fragments: tuple[str, ...] = ()
    keys: tuple[tuple[str, Value], ...] = ()
    type: str | None = None
    ref: str | None = None
    ctor: ast.Call | None = field(default=None, compare=False, hash=False)
    # the keys may be more than `keys` lists: a `**spread` or `.update()` of a mapping whose
    # keys are not known, so a check that needs a key to be absent cannot tell
    open: bool = False
    # the items of a tuple or list display, by position (for unpacking)
    elements: tuple[Value, ...] | None = None

    def kinds(self) -> frozenset[Kind]:
        return frozenset(o.kind for o in self.origins)

    def has(self, *kinds: Kind) -> bool:
        return any(o.kind in kinds for o in self.origins)

    def of(self, kind: Kind) -> list[Origin]:
        return sorted((o for o in self.origins if o.kind is kind), key=_origin_order)

    def key(self, name: str) -> Value | None:
        for k, v in self.keys:
            if k == name:
                return v
        return None

    def key_names(self) -> frozenset[str]:
        return frozenset(k for k, _ in self.keys)

    def all_text(self) -> str:
        """The known text, or the literal fragments joined (placeholders dropped)."""
        return self.text if self.text is not None else "".join(self.fragments)

    def field_keys(self) -> frozenset[str]:
        return frozenset(o.key for o in self.origins if o.kind is Kind.FIELD and o.key)


EMPTY = Value()


def _origin_order(o: Origin) -> tuple[int, int]:
    return (o.line, o.col)


def join(values: Iterable[Value]) -> Value:
    """The least upper bound of several possible values."""
    items = list(values)
    if not items:
        return EMPTY
    if len(items) == 1:
        return items[0]
    origins: frozenset[Origin] = frozenset().union(*(v.origins for v in items))
    texts = {v.text for v in items}
    types = {v.type for v in items}
    refs = {v.ref for v in items}
    keys = merge_keys(items)
    frags = tuple(dict.fromkeys(f for v in items for f in v.fragments))
    ctor = next((v.ctor for v in items if v.ctor is not None), None)
    return Value(
        open=any(v.open for v in items),
        elements=_join_elements(items),
        origins=origins,
        text=texts.pop() if len(texts) == 1 else None,
        fragments=frags,
        keys=keys,
        type=types.pop() if len(types) == 1 else next((t for t in types if t), None),
        ref=refs.pop() if len(refs) == 1 else None,
        ctor=ctor,
    )


def _join_elements(items: Sequence[Value]) -> tuple[Value, ...] | None:
    shapes = {len(v.elements) if v.elements is not None else -1 for v in items}
    if len(shapes) != 1 or -1 in shapes:
        return None
    return tuple(join(parts) for parts in zip(*(v.elements or () for v in items), strict=True))


def merge_keys(items: Sequence[Value]) -> tuple[tuple[str, Value], ...]:
    merged: dict[str, list[Value]] = {}
    for v in items:
        for k, item in v.keys:
            merged.setdefault(k, []).append(item)
    return tuple((k, join(vs)) for k, vs in merged.items())


def derived(values: Iterable[Value]) -> Value:
    """Provenance of a result computed from these values by an unknown function."""
    origins = frozenset().union(*(v.origins for v in values))
    return Value(origins=frozenset(replace(o, derived=True) for o in origins))


def taint(values: Iterable[Value]) -> Value:
    """A value derived from others by an unknown operation: provenance only."""
    return Value(origins=frozenset().union(*(v.origins for v in values)))


def literal(text: str, node: ast.AST) -> Value:
    return Value(
        origins=frozenset({Origin(Kind.LITERAL, _line(node), _col(node))}),
        text=text,
        fragments=(text,),
    )


def _line(node: ast.AST) -> int:
    return int(getattr(node, "lineno", 0))


def _col(node: ast.AST) -> int:
    return int(getattr(node, "col_offset", 0))


# --- query strings --------------------------------------------------------------------------
_PARAM = re.compile(r"([A-Za-z_][A-Za-z0-9_.\-]*)=([^&#?]*)$")


def query_keys(parts: Sequence[str | Value], node: ast.AST) -> tuple[tuple[str, Value], ...]:
    """Parameters found in a URL built from literal text and embedded values."""
    found: list[tuple[str, Value]] = []
    pending: str | None = None
    for part in parts:
        if isinstance(part, Value):
            if pending is not None:
                found.append((pending, part))
                pending = None
            found.extend(part.keys if part.type is None else ())
            continue
        pending = None
        segments = re.split(r"[?&#]", part)
        for index, segment in enumerate(segments):
            match = _PARAM.search(segment) if index > 0 or "=" in segment else None
            if match is None or (index == 0 and not _starts_query(segment, match)):
                continue
            key, raw = match.group(1), match.group(2)
            if any(c in raw for c in "\"' "):
                continue  # code or prose (`client_secret="x"`), not a query parameter
            if raw == "" and index == len(segments) - 1:
                pending = key
            else:
                found.append((key, literal(raw, node)))
    return tuple(found)


def _starts_query(segment: str, match: re.Match[str]) -> bool:
    return match.start() == 0 and "/" not in segment and ":" not in segment


def const_str(node: ast.expr | None) -> str | None:
    """The text of a string literal node."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    return None


def const_int(node: ast.expr | None) -> int | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, int):
        return int(node.value)
    return None

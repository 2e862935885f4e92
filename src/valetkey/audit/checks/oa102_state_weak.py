"""OA102 state-weak."""

from __future__ import annotations

from collections.abc import Iterator

from valetkey.audit.analysis import Analysis
from valetkey.audit.oauth import placements
from valetkey.audit.registry import AuditConfig, Hit, check
from valetkey.audit.values import Kind, Origin, Value

from ._helpers import WEAK_KINDS, first_line, hardcoded

_GUARDED = ("state", "nonce", "code_verifier")
MIN_BITS = 128


@check("OA102")
def state_weak(module: Analysis, config: AuditConfig) -> Iterator[Hit]:
    """Flags: the value sent as `state`, `nonce` or `code_verifier` (in an authorization
    request dict or URL, or as that keyword of an OAuth library call) comes from `random`
    (but not `random.SystemRandom`, which reads `os.urandom`), `uuid1`, the clock, a
    constant, a hash of non-random data, or a CSPRNG call asked for fewer than 128 bits
    (`secrets.token_hex(8)`). The finding is on the line where the
    weak value is made. Values passed back from the session or the request are not judged
    here; their origin is followed to where they were generated.

    Silent: `uuid4()` (122 bits from `os.urandom`: the common idiom, and short of the bar by
    a margin no attacker can use), and a CSPRNG whose length is not a constant (not known).
    """
    for p in placements(module):
        if p.key not in _GUARDED or not p.oauth:
            continue
        weak = weakness(p.value)
        if weak is not None:
            origin, reason = weak
            yield Hit(origin.line, origin.col, f"`{p.key}` comes from {reason}")


def weakness(value: Value) -> tuple[Origin, str] | None:
    """The origin that makes a value guessable, with a short reason. What went through a
    call the analysis cannot see into (a keyed signature, `signer.dumps({"t": time()})`)
    is not judged."""
    value = Value(origins=frozenset(o for o in value.origins if not o.derived), text=value.text)
    weak = first_line(value, *WEAK_KINDS)
    if weak is not None:
        return weak, weak.kind.value
    short = [o for o in value.of(Kind.CSPRNG) if o.bits is not None and o.bits < MIN_BITS]
    if short:
        return short[0], f"a CSPRNG asked for only {short[0].bits} bits"
    constant = hardcoded(value)
    if constant is not None and not value.has(Kind.ENV):
        return constant, "a constant in the code"
    hashed = value.of(Kind.HASH)
    if hashed and not value.has(Kind.CSPRNG):
        return hashed[0], "a hash of predictable data"
    return None

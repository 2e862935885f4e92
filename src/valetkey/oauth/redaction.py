"""How secrets appear in records and output: never whole, only masked or fingerprinted."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping

# parameters whose values are secrets or bearer values: only a fingerprint is shown
SECRET_PARAMS = frozenset(
    {
        "password",
        "client_secret",
        "code",
        "code_verifier",
        "access_token",
        "refresh_token",
        "id_token",
        "token",
        "id_token_hint",
        "authorization",
    }
)
# not secret, but single-use or personal: shortened
MASKED_PARAMS = frozenset({"state", "nonce", "code_challenge"})


def fingerprint(value: str) -> str:
    """A short, non-reversible name for a secret value."""
    return "sha256:" + hashlib.sha256(value.encode("utf-8", "surrogatepass")).hexdigest()[:12]


def mask(name: str, value: str) -> str:
    if name == "password":
        return "(hidden)"
    if name in SECRET_PARAMS:
        return fingerprint(value)
    if name in MASKED_PARAMS:
        return value[:4] + "…" if len(value) > 4 else "…"
    return value[:200]


def masked(params: Mapping[str, str | None]) -> dict[str, str]:
    return {name: mask(name, value) for name, value in params.items() if value is not None}

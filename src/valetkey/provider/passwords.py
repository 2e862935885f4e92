"""User passwords: argon2id hashes (argon2-cffi), verified off the event loop.

The default parameters are OWASP's minimum for argon2id (19 MiB, 2 passes, 1 lane), about
20 ms a verify on this class of machine. The lab switch `weak-password-hash` lowers them to
1 MiB and 1 pass for load tests. A stored hash made with other parameters is re-hashed with
the current ones at the next successful login.
"""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

STRICT = PasswordHasher(time_cost=2, memory_cost=19456, parallelism=1)
WEAK = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)


class Passwords:
    def __init__(self, weak: bool = False) -> None:
        self.hasher = WEAK if weak else STRICT
        self._dummy: str | None = None

    def hash(self, password: str) -> str:
        return self.hasher.hash(password)

    def verify(self, stored_hash: str | None, password: str) -> bool:
        """True when the password matches; for an unknown user (None) the same work is done."""
        if stored_hash is None:
            if self._dummy is None:
                self._dummy = self.hasher.hash("valetkey-timing-equalizer")
            stored_hash = self._dummy
            password = password + "\x00"  # never matches
        try:
            return self.hasher.verify(stored_hash, password)
        except (VerificationError, InvalidHashError):
            return False

    def needs_rehash(self, stored_hash: str) -> bool:
        return self.hasher.check_needs_rehash(stored_hash)

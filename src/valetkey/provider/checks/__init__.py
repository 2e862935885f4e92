"""Request validation as small, registered checks, run from one ordered table per endpoint.

A check is a function that takes the endpoint's context and raises an `OAuthError` when the
request breaks the rule; its docstring's first line is its title and the rest its
documentation. `check()` tags it with the catalogue id (../shared/CHECKS.md; empty where the
catalogue has none) and the clause it enforces. `run_checks` runs a table in order, stops at
the first failure, and reports every result so the flow record shows what ran.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

from valetkey.provider.errors import OAuthError

C = TypeVar("C")


@dataclass(frozen=True)
class Check(Generic[C]):
    id: str
    clause: str
    title: str
    doc: str
    run: Callable[[C], None]


REGISTRY: list[Check[object]] = []


def check(check_id: str, clause: str) -> Callable[[Callable[[C], None]], Check[C]]:
    def register(func: Callable[[C], None]) -> Check[C]:
        doc = (func.__doc__ or func.__name__).strip()
        title = doc.splitlines()[0].rstrip(".")
        registered: Check[C] = Check(check_id, clause, title, doc, func)
        REGISTRY.append(registered)  # type: ignore[arg-type]
        return registered

    return register


@dataclass(frozen=True)
class CheckResult:
    id: str
    clause: str
    title: str
    passed: bool
    detail: str = ""

    def as_dict(self) -> dict[str, str]:
        return {
            "id": self.id,
            "clause": self.clause,
            "title": self.title,
            "result": "pass" if self.passed else "fail",
            "detail": self.detail,
        }


def run_checks(table: Sequence[Check[C]], ctx: C, results: list[CheckResult]) -> None:
    """Run each check in order; record it; re-raise the first failure, tagged with its id."""
    for item in table:
        try:
            item.run(ctx)
        except OAuthError as exc:
            exc.check_id = exc.check_id or item.id
            results.append(CheckResult(item.id, item.clause, item.title, False, exc.description))
            raise
        results.append(CheckResult(item.id, item.clause, item.title, True))

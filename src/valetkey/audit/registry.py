"""Checks as small registered units: an id, a slug, a severity, the clause they enforce, the
fix, and a docstring that is their documentation (`valetkey audit --explain ID`)."""

from __future__ import annotations

import ast
import inspect
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from valetkey.audit.analysis import Analysis
from valetkey.audit.model import Severity


@dataclass(frozen=True)
class AuditConfig:
    """Project settings from `[tool.valetkey]` in pyproject.toml."""

    allowed_scopes: frozenset[str] | None = None
    exclude: tuple[str, ...] = ()


@dataclass(frozen=True)
class Hit:
    """Where a check fired, before it becomes a `Finding` with the check's metadata."""

    line: int
    column: int
    message: str

    @classmethod
    def at(cls, node: ast.AST, message: str) -> Hit:
        return cls(int(getattr(node, "lineno", 1)), int(getattr(node, "col_offset", 0)), message)

    @classmethod
    def at_keyword(cls, call: ast.Call, names: tuple[str, ...], message: str) -> Hit:
        """On the offending keyword's line when the call spans several lines
        (`verify=False,`), else where the call starts."""
        for kw in call.keywords:
            if kw.arg in names:
                return cls.at(kw.value, message)
        return cls.at(call, message)


Runner = Callable[[Analysis, AuditConfig], Iterable[Hit]]


@dataclass(frozen=True)
class Check:
    id: str
    slug: str
    severity: Severity
    clause: str
    fix: str
    references: tuple[str, ...]
    run: Runner = field(compare=False)
    doc: str = ""

    @property
    def summary(self) -> str:
        return self.doc.strip().splitlines()[0] if self.doc.strip() else self.slug

    def examples(self) -> tuple[str, str]:
        """The bad and the good example of the documentation."""
        return _block(self.doc, "Bad:"), _block(self.doc, "Good:")


REGISTRY: dict[str, Check] = {}


def check(
    *, id: str, slug: str, severity: Severity, clause: str, fix: str, references: tuple[str, ...]
) -> Callable[[Runner], Runner]:
    """Register a check; the decorated function's docstring is its documentation."""

    def register(func: Runner) -> Runner:
        REGISTRY[id] = Check(
            id, slug, severity, clause, fix, references, func, inspect.getdoc(func) or ""
        )
        return func

    return register


def _block(doc: str, header: str) -> str:
    lines = doc.splitlines()
    if header not in (line.strip() for line in lines):
        return ""
    start = next(i for i, line in enumerate(lines) if line.strip() == header) + 1
    block: list[str] = []
    for line in lines[start:]:
        if line.strip() and not line.startswith("    "):
            break
        block.append(line[4:] if line.startswith("    ") else "")
    return "\n".join(block).strip("\n") + "\n"

"""Checks as small registered units. The check catalogue (`valetkey.catalogue`) gives each
its slug, title, severity, clause, fix, why and examples; the decorated function brings the
detection code and a docstring that says exactly what it flags and what it leaves alone.
Both together are the documentation (`valetkey audit --explain ID`)."""

from __future__ import annotations

import ast
import inspect
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from valetkey import catalogue
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
    detection: str = ""  # the decorated function's docstring: what exactly it flags

    @property
    def summary(self) -> str:
        return self.doc.strip().splitlines()[0] if self.doc.strip() else self.slug

    def examples(self) -> tuple[str, str]:
        """The bad and the good example of the documentation."""
        return _block(self.doc, "Bad:"), _block(self.doc, "Good:")


REGISTRY: dict[str, Check] = {}


def check(check_id: str) -> Callable[[Runner], Runner]:
    """Register the detection code of a catalogue OA id; an id the catalogue lacks fails here."""

    def register(func: Runner) -> Runner:
        entry = catalogue.require(check_id, catalogue.Family.OA, f"audit check {func.__name__}")
        REGISTRY[check_id] = Check(
            entry.id,
            entry.slug,
            entry.severity,
            entry.clause,
            entry.fix,
            entry.links(),
            func,
            documentation(entry, inspect.getdoc(func) or ""),
            inspect.getdoc(func) or "",
        )
        return func

    return register


def documentation(entry: catalogue.Entry, detection: str) -> str:
    """Title, the rule, what exactly the check flags (`detection`), why, then the examples."""
    parts = [entry.title, f"What: {entry.what}", detection.strip(), f"Why: {entry.why}"]
    parts += [f"Bad:\n{_indented(entry.bad.text)}", f"Good:\n{_indented(entry.good.text)}"]
    return "\n\n".join(part for part in parts if part)


def _indented(text: str) -> str:
    return "\n".join(f"    {line}" if line else "" for line in text.rstrip("\n").splitlines())


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

"""Fingerprints: where a finding is in the code, independent of its line number.

A finding's fingerprint hashes its check id, the qualified name of the function or class
around it and its source line with whitespace collapsed, then appends an occurrence index
(`3f2a...:0`, `3f2a...:1`) that tells apart identical lines in the same function. Inserting
or removing lines elsewhere keeps it; editing the offending line, or moving it into another
function, changes it. Baselines (audit/baseline.py) and SARIF `partialFingerprints` use it.
"""

from __future__ import annotations

import ast
import hashlib
import warnings
from collections.abc import Iterator, Sequence
from dataclasses import replace

from valetkey.audit.model import Finding

Scope = tuple[int, int, str]  # first line (decorators included), last line, qualified name


def fingerprinted(findings: Sequence[Finding], source: str) -> tuple[Finding, ...]:
    """The findings of one file with their `fingerprint` set, in the same order."""
    if not findings:
        return tuple(findings)
    lines = source.splitlines()
    scopes = _scopes(source)
    seen: dict[str, int] = {}
    marked: dict[int, Finding] = {}
    for index in sorted(range(len(findings)), key=lambda i: _position(findings[i])):
        finding = findings[index]
        text = lines[finding.line - 1] if 0 < finding.line <= len(lines) else ""
        digest = code_hash(finding.id, enclosing(scopes, finding.line), text)
        occurrence = seen.get(digest, 0)
        seen[digest] = occurrence + 1
        marked[index] = replace(finding, fingerprint=f"{digest}:{occurrence}")
    return tuple(marked[i] for i in range(len(findings)))


def code_hash(check_id: str, scope: str, line: str) -> str:
    normalised = " ".join(line.split())
    material = f"{check_id}\n{scope}\n{normalised}".encode()
    return hashlib.sha256(material).hexdigest()[:16]


def enclosing(scopes: Sequence[Scope], line: int) -> str:
    """The innermost function or class whose lines hold `line`; "" at module level."""
    inside = [s for s in scopes if s[0] <= line <= s[1]]
    return max(inside, key=lambda s: s[0])[2] if inside else ""


def _position(finding: Finding) -> tuple[int, int]:
    return finding.line, finding.column


def _scopes(source: str) -> list[Scope]:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            tree = ast.parse(source)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return []
    return list(_walk(tree, ""))


def _walk(node: ast.AST, prefix: str) -> Iterator[Scope]:
    for child in ast.iter_child_nodes(node):
        if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            name = f"{prefix}{child.name}"
            first = min([child.lineno, *(d.lineno for d in child.decorator_list)])
            yield first, child.end_lineno or child.lineno, name
            yield from _walk(child, f"{name}.")
        else:
            yield from _walk(child, prefix)

"""The auditor's layers: values, the module index, the interpreter, the models that fill its
table of call semantics, the OAuth facts, the per-file analysis, the checks. Imports go one
way only, and the interpreter knows no library."""

from __future__ import annotations

import ast
from pathlib import Path

import valetkey.audit

AUDIT = Path(valetkey.audit.__file__).parent


def _module_name(path: Path) -> str:
    rel = path.relative_to(AUDIT).with_suffix("")
    parts = [p for p in rel.parts if p != "__init__"]
    return ".".join(["valetkey.audit", *parts])


def _imports(path: Path) -> set[str]:
    """Every valetkey.audit module this file imports, at the top or inside a function."""
    package = _module_name(path) if path.name == "__init__.py" else _module_name(path.parent / "x")
    package = package.rsplit(".", 1)[0] if path.name != "__init__.py" else package
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")
                anchor = anchor[: len(anchor) - (node.level - 1)]
                base = ".".join([*anchor, base] if base else anchor)
            if base.startswith("valetkey.audit"):
                found.add(base)
                found.update(f"{base}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.startswith("valetkey.audit"))
    return found


def _graph() -> dict[str, set[str]]:
    modules = {_module_name(p): p for p in AUDIT.rglob("*.py")}
    return {
        name: {d for d in _imports(path) if d in modules and d not in (name, "valetkey.audit")}
        for name, path in modules.items()
    }


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    state: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(node: str) -> None:
        state[node] = 1
        stack.append(node)
        for dep in sorted(graph[node]):
            if state.get(dep) == 1:
                found.append([*stack[stack.index(dep) :], dep])
            elif dep not in state:
                visit(dep)
        stack.pop()
        state[node] = 2

    for node in sorted(graph):
        if node not in state:
            visit(node)
    return found


def test_the_audit_package_has_no_import_cycle() -> None:
    assert _cycles(_graph()) == []


def test_the_cycle_finder_finds_a_cycle() -> None:
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == [["a", "b", "c", "a"]]


def test_the_interpreter_imports_no_library_or_oauth_knowledge() -> None:
    graph = _graph()
    allowed = {"valetkey.audit.values", "valetkey.audit.index", "valetkey.audit.frameworks"}
    for layer in ("valetkey.audit.interpreter", "valetkey.audit.values"):
        assert graph[layer] <= allowed, layer
    assert graph["valetkey.audit.index"] <= allowed


def test_nothing_sets_attributes_on_the_analysis_from_outside() -> None:
    """Facts are cached through `Interpreter.memo`, never by adding attributes at run time."""
    for path in AUDIT.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            targets = node.targets if isinstance(node, ast.Assign) else []
            for target in targets:
                if isinstance(target, ast.Attribute) and isinstance(target.value, ast.Name):
                    assert target.value.id not in ("module", "analysis", "interp"), path
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
                assert node.func.id != "setattr", path


def test_findings_do_not_depend_on_the_order_checks_run_in() -> None:
    """A check run alone on a fresh analysis finds what it finds after all the others ran
    on the same analysis: facts indexed lazily (session stores, call sites) never leave
    half-computed values behind."""
    from valetkey.audit.analysis import Analysis
    from valetkey.audit.checks import all_checks
    from valetkey.audit.registry import AuditConfig

    fixtures = Path(__file__).parent / "fixtures"
    checks = all_checks()
    for path in sorted(fixtures.glob("*/*.py")):
        source = path.read_text(encoding="utf-8")
        shared = Analysis(ast.parse(source))
        together = {c.id: list(c.run(shared, AuditConfig())) for c in reversed(checks)}
        for check in checks:
            alone = list(check.run(Analysis(ast.parse(source)), AuditConfig()))
            assert sorted(alone, key=repr) == sorted(together[check.id], key=repr), (path, check.id)

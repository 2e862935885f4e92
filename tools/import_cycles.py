"""Find import cycles in a package tree; print each one and exit 1, or exit 0 when none.

Every import statement counts, wherever it stands: at module level, inside a function, or
under `if TYPE_CHECKING:`. A cycle hidden behind a local import still couples the modules,
and one behind TYPE_CHECKING still makes their types depend on each other.

Importing `a.b.c` runs the `__init__` of `a` and `a.b` first, so an import also depends on
those packages, except the ones the importing module lives in (their `__init__` is already
running when it runs). `from a.b import name` depends on the module `a.b.name` when there is
one, and on `a.b`'s `__init__` otherwise.

It then looks one level up: the packages right below the top one (`valetkey.provider`,
`valetkey.trace`, ...) must not depend on each other in a circle either, so that each can be
read, tested and replaced on its own.

    python tools/import_cycles.py [SRC_DIR]     # default: src
"""

from __future__ import annotations

import ast
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Edge:
    source: str
    target: str
    line: int


def module_names(root: Path) -> dict[str, Path]:
    """Every module under `root` (a folder holding top-level packages), by dotted name."""
    names = {}
    for path in sorted(root.rglob("*.py")):
        parts = list(path.relative_to(root).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        if parts:
            names[".".join(parts)] = path
    return names


def _package_of(module: str, path: Path) -> str:
    return module if path.name == "__init__.py" else module.rpartition(".")[0]


def _absolute(node: ast.ImportFrom, package: str) -> str:
    if node.level == 0:
        return node.module or ""
    base = package.split(".")[: len(package.split(".")) - node.level + 1]
    return ".".join([*base, *([node.module] if node.module else [])])


def imported(module: str, path: Path, modules: dict[str, Path]) -> Iterator[tuple[str, int]]:
    """The project modules one module imports, each with the line of its import."""
    package = _package_of(module, path)
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, node.lineno
        elif isinstance(node, ast.ImportFrom):
            base = _absolute(node, package)
            for alias in node.names:
                submodule = f"{base}.{alias.name}"
                yield (submodule if submodule in modules else base), node.lineno


def _runs(target: str, importer: str, modules: dict[str, Path]) -> list[str]:
    """The modules that importing `target` runs: it and its packages, minus the importer's."""
    parts = target.split(".")
    chain = [".".join(parts[:i]) for i in range(1, len(parts) + 1)]
    return [
        name
        for name in chain
        if name in modules and name != importer and not importer.startswith(name + ".")
    ] + ([target] if target == importer else [])


def edges(root: Path) -> list[Edge]:
    modules = module_names(root)
    found: list[Edge] = []
    for module, path in modules.items():
        for target, line in imported(module, path, modules):
            found.extend(Edge(module, name, line) for name in _runs(target, module, modules))
    return found


def cycles(all_edges: list[Edge]) -> list[list[Edge]]:
    """One shortest cycle through each strongly connected group of modules."""
    graph: dict[str, list[Edge]] = {}
    for edge in all_edges:
        graph.setdefault(edge.source, []).append(edge)
    found = []
    for group in _components(graph):
        start = min(group)
        found.append(_shortest_cycle(graph, start, group))
    return sorted(found, key=lambda cycle: cycle[0].source)


def _components(graph: dict[str, list[Edge]]) -> list[set[str]]:
    """Tarjan's strongly connected components with more than one module, or a self-import."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    result: list[set[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for edge in graph.get(node, []):
            if edge.target not in index:
                visit(edge.target)
                low[node] = min(low[node], low[edge.target])
            elif edge.target in stack:
                low[node] = min(low[node], index[edge.target])
        if low[node] == index[node]:
            group = set()
            while True:
                member = stack.pop()
                group.add(member)
                if member == node:
                    break
            looped = any(e.target == node for e in graph.get(node, []))
            if len(group) > 1 or looped:
                result.append(group)

    sys.setrecursionlimit(max(10_000, sys.getrecursionlimit()))
    for node in sorted(graph):
        if node not in index:
            visit(node)
    return result


def _shortest_cycle(graph: dict[str, list[Edge]], start: str, group: set[str]) -> list[Edge]:
    """Breadth first from `start` back to itself, inside the group."""
    paths: dict[str, list[Edge]] = {start: []}
    queue = [start]
    while queue:
        node = queue.pop(0)
        for edge in graph.get(node, []):
            if edge.target == start:
                return [*paths[node], edge]
            if edge.target in group and edge.target not in paths:
                paths[edge.target] = [*paths[node], edge]
                queue.append(edge.target)
    raise AssertionError(f"{start} is in a cycle group without a cycle")


def package_edges(all_edges: list[Edge], modules: dict[str, Path], depth: int = 2) -> list[Edge]:
    """The edges between different packages `depth` names deep (plain modules at that depth
    are left to the module graph), one per importing line."""

    def package(module: str) -> str | None:
        name = ".".join(module.split(".")[:depth])
        return name if modules[name].name == "__init__.py" else None

    found: list[Edge] = []
    for edge in all_edges:
        source, target = package(edge.source), package(edge.target)
        if source and target and source != target:
            found.append(Edge(source, target, edge.line))
    return found


def _example_edges(cycle: list[Edge], all_edges: list[Edge]) -> list[Edge]:
    """For a cycle between packages, one module-level import behind each of its steps."""

    def behind(step: Edge) -> Edge:
        matching = [
            e
            for e in all_edges
            if (e.source + ".").startswith(step.source + ".")
            and (e.target + ".").startswith(step.target + ".")
        ]
        return max(matching, key=lambda e: len(e.target))

    return [behind(step) for step in cycle]


def describe(cycle: list[Edge], modules: dict[str, Path], root: Path) -> str:
    lines = [" -> ".join([cycle[0].source, *(e.target for e in cycle)])]
    for edge in cycle:
        where = modules[edge.source].relative_to(root.parent)
        lines.append(f"    {where}:{edge.line} imports {edge.target}")
    return "\n".join(lines)


def main(argv: list[str]) -> int:
    root = Path(argv[0] if argv else "src")
    modules = module_names(root)
    module_edges = edges(root)
    found = cycles(module_edges)
    for cycle in found:
        print(f"import cycle: {describe(cycle, modules, root)}")
    between_packages = cycles(package_edges(module_edges, modules))
    for cycle in between_packages:
        print(f"package cycle: {' -> '.join([cycle[0].source, *(e.target for e in cycle)])}")
        print(describe(_example_edges(cycle, module_edges), modules, root).split("\n", 1)[1])
    if found or between_packages:
        print(f"{len(found)} import cycle(s), {len(between_packages)} package cycle(s) in {root}")
        return 1
    print(f"no import cycle among {len(modules)} modules in {root}, nor among their packages")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

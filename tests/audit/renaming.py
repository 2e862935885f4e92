"""Rename a module's own identifiers (variables, parameters, functions, classes) without
moving any line, to show that findings depend on data flow and not on names."""

from __future__ import annotations

import ast
import builtins
import io
import keyword
import re
import tokenize

_ROUTE_DECORATORS = {
    "route",
    "get",
    "post",
    "put",
    "patch",
    "delete",
    "api_route",
    "view_config",
    "api_view",
}
# Method names frameworks dispatch to by name (class-based views, Tornado handlers, Falcon
# responders): API, not identifiers the user chose.
_DISPATCHED = {
    "get",
    "post",
    "put",
    "patch",
    "delete",
    "head",
    "on_get",
    "on_post",
    "on_put",
    "on_patch",
    "on_delete",
    "on_head",
}


def rename_locals(source: str) -> str:
    tree = ast.parse(source)
    mapping = {name: f"v{index}_{len(name)}" for index, name in enumerate(sorted(_renamable(tree)))}
    return _replace_tokens(source, mapping)


def _renamable(tree: ast.Module) -> set[str]:
    imported: set[str] = set()
    keywords: set[str] = set()
    attributes: set[str] = set()
    protected: set[str] = set()
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import | ast.ImportFrom):
            imported |= {(a.asname or a.name).split(".")[0] for a in node.names}
        elif isinstance(node, ast.keyword) and node.arg:
            keywords.add(node.arg)
        elif isinstance(node, ast.Attribute):
            attributes.add(node.attr)
        elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            names.add(node.id)
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            names.add(node.name)
            params = [*node.args.posonlyargs, *node.args.args, *node.args.kwonlyargs]
            if _is_route(node):
                protected |= {p.arg for p in params}  # web frameworks bind these by name
            names |= {p.arg for p in params}
        elif isinstance(node, ast.ClassDef):
            names.add(node.name)
    # framework setting names are API, not identifiers the user chose
    reserved = (
        set(dir(builtins)) | set(keyword.kwlist) | {"self", "cls", "__name__", "SECRET_KEY"}
    ) | _DISPATCHED
    settings = {n for n in names if _LIBRARY_SETTING.match(n)}  # read by libraries by name
    return names - imported - keywords - attributes - protected - reserved - settings


_LIBRARY_SETTING = re.compile(r"^(SOCIAL_AUTH_|SOCIALACCOUNT_)|_CLIENT_SECRET$")


def _is_route(func: ast.FunctionDef | ast.AsyncFunctionDef) -> bool:
    for deco in func.decorator_list:
        target = deco.func if isinstance(deco, ast.Call) else deco
        if isinstance(target, ast.Attribute) and target.attr in _ROUTE_DECORATORS:
            return True
        if isinstance(target, ast.Name) and target.id in _ROUTE_DECORATORS:
            return True
    return False


def _replace_tokens(source: str, mapping: dict[str, str]) -> str:
    lines = source.splitlines(keepends=True)
    edits: dict[int, list[tuple[int, int, str]]] = {}
    previous = ""
    for token in tokenize.generate_tokens(io.StringIO(source).readline):
        if token.type == tokenize.NAME and token.string in mapping and previous != ".":
            row, col = token.start
            edits.setdefault(row, []).append((col, token.end[1], mapping[token.string]))
        elif token.type == tokenize.STRING and token.start[0] == token.end[0]:
            prefix = token.string.split("'")[0].split('"')[0].lower()
            if "f" in prefix:
                row, col = token.start
                new_text = _rename_in_fstring(token.string, mapping)
                if new_text != token.string:
                    edits.setdefault(row, []).append((col, token.end[1], new_text))
        if token.type not in (tokenize.NL, tokenize.NEWLINE, tokenize.COMMENT):
            previous = token.string
    for row, changes in edits.items():
        text = lines[row - 1]
        for start, end, new in sorted(changes, reverse=True):
            text = text[:start] + new + text[end:]
        lines[row - 1] = text
    return "".join(lines)


def _rename_in_fstring(text: str, mapping: dict[str, str]) -> str:
    def fix_field(match: re.Match[str]) -> str:
        return re.sub(
            r"(?<![.\w'\"])([A-Za-z_]\w*)",
            lambda m: mapping.get(m.group(1), m.group(1)),
            match.group(0),
        )

    return re.sub(r"\{[^{}]*\}", fix_field, text)

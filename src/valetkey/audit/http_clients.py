"""HTTP clients as configured objects: what a client was set up with applies wherever it is
used.

A client's settings come from its constructor (`httpx.Client(timeout=None, verify=False)`,
`aiohttp.ClientSession(timeout=ClientTimeout(total=None))`, `urllib3.PoolManager(timeout=5)`)
and from what the module does to the same object afterwards: attributes it sets
(`session.verify = False`), transport adapters it mounts on a `requests.Session` that set a
default timeout, and a `request` method it wraps with `functools.partial(..., timeout=...)`.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field

from valetkey.audit.index import kwarg
from valetkey.audit.interpreter import Interpreter
from valetkey.audit.values import Value


@dataclass(frozen=True)
class ClientConfig:
    """The settings of one client object (the constructor call that made it)."""

    ctor: ast.Call
    settings: dict[str, ast.expr] = field(default_factory=dict)  # name -> where it was set
    default_timeout: ast.AST | None = None  # a mounted adapter or wrapper that sets one

    def setting(self, name: str) -> ast.expr | None:
        return self.settings.get(name)


def configuration(module: Interpreter, client: Value | None) -> ClientConfig | None:
    """The configuration of the client object `client` is, if it is one the module made."""
    if client is None or client.ctor is None:
        return None
    configs: dict[int, ClientConfig] = module.memo("http_clients", lambda: _configure(module))
    ctor = client.ctor
    config = configs.get(id(ctor)) or ClientConfig(ctor, _keywords(ctor))
    if config.default_timeout is None and _subclass_sets_timeout(module, client):
        return ClientConfig(ctor, config.settings, ctor)
    return config


def _subclass_sets_timeout(module: Interpreter, client: Value) -> bool:
    """A client class of the module (`class Api(requests.Session)`) whose code handles
    `timeout` (a `request()` override that fills in a default)."""
    if client.type is None or not client.type.startswith("<self>."):
        return False
    return _mentions_timeout(module, client.type.split(".", 1)[1])


def _keywords(ctor: ast.Call) -> dict[str, ast.expr]:
    return {kw.arg: kw.value for kw in ctor.keywords if kw.arg is not None}


def _configure(module: Interpreter) -> dict[int, ClientConfig]:
    found: dict[int, ClientConfig] = {}

    def of(node: ast.expr) -> ClientConfig | None:
        value = module.eval(node, module.scope_of(node))
        if value.ctor is None or value.type is None:
            return None
        return found.setdefault(id(value.ctor), ClientConfig(value.ctor, _keywords(value.ctor)))

    for node in module.nodes:
        if isinstance(node, ast.Assign):
            for target in node.targets:
                if isinstance(target, ast.Attribute):
                    config = of(target.value)
                    if config is not None:
                        _set_attribute(module, config, target.attr, node.value, found)
        elif _is_mount(node):
            assert isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
            config = of(node.func.value)
            if config is not None and _adapter_sets_timeout(module, node.args[1]):
                found[id(config.ctor)] = _with_default(config, node)
    return found


def _is_mount(node: ast.AST) -> bool:
    """`session.mount(prefix, adapter)`."""
    return (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr == "mount"
        and len(node.args) == 2
    )


def _set_attribute(
    module: Interpreter,
    config: ClientConfig,
    attr: str,
    value: ast.expr,
    found: dict[int, ClientConfig],
) -> None:
    if attr == "request" and isinstance(value, ast.Call) and kwarg(value, "timeout") is not None:
        found[id(config.ctor)] = _with_default(config, value)  # partial(s.request, timeout=5)
    else:
        config.settings[attr] = value


def _with_default(config: ClientConfig, where: ast.AST) -> ClientConfig:
    return ClientConfig(config.ctor, config.settings, where)


def _adapter_sets_timeout(module: Interpreter, adapter: ast.expr) -> bool:
    """A transport adapter of a class of this module whose code handles `timeout` (the
    usual `TimeoutHTTPAdapter` that fills in a default)."""
    value = module.eval(adapter, module.scope_of(adapter))
    if value.type is None or not value.type.startswith("<self>."):
        return False
    return _mentions_timeout(module, value.type.split(".", 1)[1])


def _mentions_timeout(module: Interpreter, cls: str) -> bool:
    return any(
        isinstance(node, ast.Name | ast.Attribute | ast.Constant | ast.arg)
        and "timeout" in _name_of(node)
        for current in module.class_and_bases(cls)
        if current in module.classes
        for node in ast.walk(module.classes[current].node)
    )


def _name_of(node: ast.AST) -> str:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    if isinstance(node, ast.arg):
        return node.arg
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    return ""

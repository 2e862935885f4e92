"""One file's analysis, the object every check receives.

An `Analysis` is the module index with the interpreter over it, using the library and
framework models' table of call semantics, plus the OAuth facts checks share (where
parameters are placed, the HTTP calls, the token exchanges, the callbacks), each computed
once on first use.
"""

from __future__ import annotations

import ast

from valetkey.audit import oauth
from valetkey.audit.index import FuncNode
from valetkey.audit.interpreter import Interpreter
from valetkey.audit.models import semantics


class Analysis(Interpreter):
    """The analysis of one parsed module."""

    def __init__(self, tree: ast.Module) -> None:
        super().__init__(tree, semantics())

    @classmethod
    def of_source(cls, source: str) -> Analysis:
        return cls(ast.parse(source))

    @property
    def placements(self) -> list[oauth.Placement]:
        return oauth.placements(self)

    @property
    def http_calls(self) -> list[oauth.HttpCall]:
        return oauth.http_calls(self)

    @property
    def callbacks(self) -> list[FuncNode]:
        return oauth.callbacks(self)

    @property
    def takes_part_in_oauth(self) -> bool:
        return oauth.oauth_module(self)

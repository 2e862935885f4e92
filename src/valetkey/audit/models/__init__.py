"""Library and framework models: what calls, attributes, items and injected parameters of
the libraries OAuth clients are built with mean to the interpreter.

Each model module registers its rules into one `Semantics` table; the interpreter consults
the table and imports no model. The order of registration is the order rules are tried.
"""

from __future__ import annotations

from functools import cache

from valetkey.audit.interpreter import Semantics


@cache
def semantics() -> Semantics:
    """The table every analysis uses (built once per process)."""
    from valetkey.audit.models import http, oauth_clients, python, web

    table = Semantics()
    for model in (python, web, http, oauth_clients):
        model.register(table)
    return table

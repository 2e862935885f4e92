"""OA120 account-linked-by-email."""

from __future__ import annotations

import ast
from collections.abc import Iterator

from valetkey.audit.analysis import Analysis
from valetkey.audit.index import Scope
from valetkey.audit.oauth import http_calls
from valetkey.audit.registry import AuditConfig, Hit, check
from valetkey.audit.values import Kind, Value

_MUTABLE_CLAIMS = frozenset({"email", "preferred_username"})
_CLAIM_SOURCES = (Kind.TOKEN, Kind.OAUTH_DATA, Kind.CLAIMS)
# Fields that identify the provider's account for good (`sub`, or a provider's own id).
_SUBJECT_CLAIMS = frozenset({"sub", "id", "user_id", "uid", "oid", "userId", "account_id"})
# Keyword arguments of a lookup that are not its criteria (what to set on create/update).
_NOT_CRITERIA = frozenset({"defaults", "create_defaults", "update_fields"})
# Query APIs of Django's ORM, SQLAlchemy, Peewee, PyMongo and DB-API cursors.
_LOOKUPS = frozenset(
    {
        "filter_by",
        "filter",
        "get",
        "get_or_create",
        "update_or_create",
        "first",
        "one",
        "find_one",
        "find",
        "where",
        "execute",
        "get_object_or_404",
        "get_or_none",
        "exists",
    }
)


@check("OA120")
def account_linked_by_email(module: Analysis, config: AuditConfig) -> Iterator[Hit]:
    """Flags: a query (Django ORM `get`/`filter`/`get_or_create`, SQLAlchemy
    `filter_by`/`filter`/`where`, PyMongo `find_one`, DB-API `execute`, a dict lookup)
    whose criteria include the `email` or `preferred_username` field of a token
    response, ID-token claims or userinfo/API response, without the `sub` claim (or the
    provider's own account id: `id`, `user_id`, `oid` ...) in the same lookup. Values a
    lookup only sets on the row it creates (`defaults=`) are not criteria. Also the
    libraries' own switches for it: python-social-auth's `associate_by_email` pipeline
    step, django-allauth's `SOCIALACCOUNT_EMAIL_AUTHENTICATION(_AUTO_CONNECT) = True` and a
    provider's `"EMAIL_AUTHENTICATION": True`.
    """
    yield from _library_settings(module)
    if not module.mentions(*_MUTABLE_CLAIMS):
        return
    if not http_calls(module) and not module.uses("authlib", "jwt", "jose", "joserfc"):
        return
    for node in module.nodes:
        scope = module.scope_of(node)
        if isinstance(node, ast.Call) and _is_lookup(module, node, scope):
            criteria = [k.value for k in node.keywords if k.arg not in _NOT_CRITERIA]
            claims = _claims(module, [*node.args, *criteria], scope)
            if claims & _MUTABLE_CLAIMS and not claims & _SUBJECT_CLAIMS:
                yield Hit.at(node, f"account looked up by `{sorted(claims & _MUTABLE_CLAIMS)[0]}`")
        elif isinstance(node, ast.Subscript) and isinstance(node.ctx, ast.Load):
            claims = _claims(module, [node.slice], scope)
            base = module.eval(node.value, scope)
            if claims & _MUTABLE_CLAIMS and not claims & _SUBJECT_CLAIMS and not _is_claims(base):
                yield Hit.at(node, f"account looked up by `{sorted(claims & _MUTABLE_CLAIMS)[0]}`")


_EMAIL_ASSOCIATION = "social_core.pipeline.social_auth.associate_by_email"
_ALLAUTH_EMAIL_SETTINGS = frozenset(
    {"SOCIALACCOUNT_EMAIL_AUTHENTICATION", "SOCIALACCOUNT_EMAIL_AUTHENTICATION_AUTO_CONNECT"}
)


def _library_settings(module: Analysis) -> Iterator[Hit]:
    """python-social-auth's `associate_by_email` pipeline step, and django-allauth's email
    authentication settings (globally or per provider): both link a provider account to
    the local account with the same email."""
    for node in module.nodes:
        if isinstance(node, ast.Constant) and node.value == _EMAIL_ASSOCIATION:
            yield Hit.at(node, "the social-auth pipeline links accounts by email")
        elif isinstance(node, ast.Assign) and len(node.targets) == 1:
            target = node.targets[0]
            if (
                isinstance(target, ast.Name)
                and target.id in _ALLAUTH_EMAIL_SETTINGS
                and isinstance(node.value, ast.Constant)
                and node.value.value is True
            ):
                yield Hit.at(node, "allauth signs users in to the account with the same email")
        elif isinstance(node, ast.Dict):
            for key, value in zip(node.keys, node.values, strict=True):
                if (
                    isinstance(key, ast.Constant)
                    and key.value == "EMAIL_AUTHENTICATION"
                    and isinstance(value, ast.Constant)
                    and value.value is True
                ):
                    yield Hit.at(key, "allauth signs users in to the account with the same email")


def _is_lookup(module: Analysis, call: ast.Call, scope: Scope) -> bool:
    callee = module.resolve(call, scope)
    if callee.method not in _LOOKUPS:
        return False
    receiver = callee.receiver
    return receiver is None or not _is_claims(receiver)


def _is_claims(value: Value) -> bool:
    return value.has(*_CLAIM_SOURCES)


def _claims(module: Analysis, nodes: list[ast.expr], scope: Scope) -> set[str]:
    found: set[str] = set()
    for node in nodes:
        for sub in ast.walk(node):
            if isinstance(sub, ast.expr) and not isinstance(sub, ast.Constant):
                value = module.eval(sub, scope)
                if value.has(*_CLAIM_SOURCES):
                    found |= _direct_fields(value)
    return found


def _direct_fields(value: Value) -> set[str]:
    return {o.key for o in value.origins if o.kind is Kind.FIELD and o.key}

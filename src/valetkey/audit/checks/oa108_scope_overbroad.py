"""OA108 scope-overbroad."""

from __future__ import annotations

from collections.abc import Iterator

from valetkey.audit.analysis import Analysis
from valetkey.audit.model import Severity
from valetkey.audit.oauth import placements
from valetkey.audit.registry import AuditConfig, Hit, check
from valetkey.audit.values import Kind

from ._helpers import first_line, text_tokens

# Scopes that grant far more than a login or profile read needs (GitHub, Google).
OVERBROAD = frozenset(
    {
        "repo",
        "delete_repo",
        "user",
        "write:org",
        "admin:org",
        "site_admin",
        "https://mail.google.com/",
        "https://www.googleapis.com/auth/drive",
        "https://www.googleapis.com/auth/cloud-platform",
    }
)


@check(
    id="OA108",
    slug="scope-overbroad",
    severity=Severity.MEDIUM,
    clause="RFC 9700 §2.3; RFC 6819 §4.2.2",
    fix="Request only what the code uses (e.g. `read:user user:email`, `openid email profile`); "
    "list allowed scopes under [tool.valetkey] allowed-scopes.",
    references=(
        "https://www.rfc-editor.org/rfc/rfc9700#section-2.3",
        "https://www.rfc-editor.org/rfc/rfc6819#section-4.2.2",
    ),
)
def scope_overbroad(module: Analysis, config: AuditConfig) -> Iterator[Hit]:
    """The requested scopes are far broader than a login needs.

    What: a `scope` (string, list or tuple, set in an OAuth dict, URL or call) contains
    GitHub's `repo`, `delete_repo`, `user` (full profile write; `read:user` reads it),
    `write:org`, any `admin:*`, Google's full-mail, full-Drive or cloud-platform scopes,
    or a wildcard. When `pyproject.toml` lists `allowed-scopes` under `[tool.valetkey]`,
    every scope outside that list is reported instead, and listed scopes are accepted.

    Why: RFC 9700 §2.3 asks clients to request the minimum privileges; a stolen token with
    broad scopes turns a login bug into a data breach (RFC 6819 §4.2.2).

    Bad:
        from flask_dance.contrib.github import make_github_blueprint

        blueprint = make_github_blueprint(scope="repo user")

    Good:
        from flask_dance.contrib.github import make_github_blueprint

        blueprint = make_github_blueprint(scope="read:user user:email")
    """
    for p in placements(module):
        if p.key != "scope" or not p.oauth:
            continue
        wide = [t for t in text_tokens(p.value) if _too_broad(t, config.allowed_scopes)]
        if wide:
            lit = first_line(p.value, Kind.LITERAL)
            line, col = (lit.line, lit.col) if lit else (int(getattr(p.node, "lineno", 1)), 0)
            yield Hit(line, col, f"over-broad scope requested: {', '.join(sorted(set(wide)))}")


def _too_broad(scope: str, allowed: frozenset[str] | None) -> bool:
    if allowed is not None:
        return scope not in allowed
    return scope in OVERBROAD or scope.startswith("admin:") or "*" in scope

"""OA108 scope-overbroad."""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from dataclasses import dataclass

from valetkey.audit import libraries as lib
from valetkey.audit.analysis import Analysis
from valetkey.audit.oauth import HttpCall, http_calls, is_token_request, placements, url_value
from valetkey.audit.registry import AuditConfig, Hit, check
from valetkey.audit.values import Kind, Origin, Value

from ._helpers import first_line, text_tokens

_WRITES = frozenset({"post", "put", "patch", "delete"})


@dataclass(frozen=True)
class Need:
    """What a use of a broad scope looks like: an API call whose URL path matches `path`
    (with one of `methods`, any method when empty)."""

    path: str
    methods: frozenset[str] = frozenset()


# Scopes that grant far more than a login or profile read needs, with the API use that
# would justify each. A scope listed with no need is never justified by the code.
BROAD: dict[str, tuple[Need, ...]] = {
    # GitHub
    "repo": (Need(r"/repos/"), Need(r"/user/repos")),
    "public_repo": (Need(r"/repos/", _WRITES),),
    "delete_repo": (Need(r"/repos/", frozenset({"delete"})),),
    "user": (Need(r"^/user/?$", frozenset({"patch"})), Need(r"/user/(following|keys|gpg_keys)")),
    "write:org": (Need(r"/orgs/", _WRITES),),
    "admin:org": (Need(r"/orgs/", _WRITES),),
    "admin:repo_hook": (Need(r"/hooks"),),
    "admin:org_hook": (Need(r"/hooks"),),
    "admin:public_key": (Need(r"/user/keys"),),
    "site_admin": (),
    "workflow": (Need(r"/actions/|/contents/\.github"),),
    # Google
    "https://mail.google.com/": (Need(r"gmail", _WRITES),),
    "https://www.googleapis.com/auth/gmail.modify": (Need(r"gmail", _WRITES),),
    "https://www.googleapis.com/auth/drive": (Need(r"drive", _WRITES), Need(r"/upload/drive")),
    "https://www.googleapis.com/auth/cloud-platform": (Need(r"googleapis\.com/(compute|storage)"),),
    # Discord
    "guilds.join": (Need(r"/guilds/[^/]+/members/", frozenset({"put"})),),
    "gdm.join": (Need(r"/channels/[^/]+/recipients/", frozenset({"put"})),),
    "connections": (Need(r"/users/@me/connections"),),
    "messages.read": (),
    "bot": (),
    # GitLab: `api` is read and write access to everything; `read_user` signs in
    "api": (Need(r"/api/v4/", _WRITES),),
    "write_repository": (Need(r"/api/v4/projects/", _WRITES),),
    # Spotify
    "playlist-modify-public": (Need(r"/playlists", _WRITES),),
    "playlist-modify-private": (Need(r"/playlists", _WRITES),),
    "user-modify-playback-state": (Need(r"/me/player", _WRITES),),
    "user-library-modify": (Need(r"/me/(tracks|albums|shows|episodes|audiobooks)", _WRITES),),
    "user-follow-modify": (Need(r"/me/following", _WRITES), Need(r"/followers", _WRITES)),
    "ugc-image-upload": (Need(r"/images", frozenset({"put"})),),
}


@check("OA108")
def scope_overbroad(module: Analysis, config: AuditConfig) -> Iterator[Hit]:
    """Flags: a `scope` (string, list or tuple, set in an OAuth dict, URL or call) contains a
    scope that grants far more than the module's own API calls use: GitHub's `repo`
    (unless the module calls repository APIs), `delete_repo`, `user` (full profile write;
    `read:user` reads it), `write:org`, any `admin:*`; Google's full-mail, full-Drive or
    cloud-platform scopes; Discord's `guilds.join`, `gdm.join`, `connections`; Spotify's
    `*-modify-*` scopes (unless the module writes to those APIs); or a wildcard. Each
    scope is justified by the API calls (method and URL path) the module itself makes. Any
    other write scope (`chat:write`, `Mail.ReadWrite`, `activity:write`, `manage_pages`,
    GitLab's `api`) in a user's authorization request is reported when the module makes no
    write call (POST, PUT, PATCH or DELETE) to a provider API; a service's own token request
    (`client_credentials`) is not judged by that rule.
    When `pyproject.toml` lists `allowed-scopes` under `[tool.valetkey]`, every scope
    outside that list is reported instead, and listed scopes are accepted.

    Silent: scopes outside that table (an unused `email` is surplus, not a breach).
    """
    uses: list[tuple[str, str]] | None = None
    for value, node in _settings_scopes(module):
        uses = _api_uses(module) if uses is None else uses
        wide = [t for t in text_tokens(value) if _too_broad(t, config.allowed_scopes, uses, True)]
        if wide:
            lit = _literal_of(module, value, wide[0])
            line, col = (lit.line, lit.col) if lit else (int(getattr(node, "lineno", 1)), 0)
            yield Hit(line, col, f"over-broad scope requested: {', '.join(sorted(set(wide)))}")
    for p in placements(module):
        if p.key != "scope" or not p.oauth:
            continue
        if uses is None:
            uses = _api_uses(module)
        tokens = text_tokens(p.value)
        delegated = "grant_type" not in p.container_keys  # a user's consent, not a service's
        wide = [t for t in tokens if _too_broad(t, config.allowed_scopes, uses, delegated)]
        if wide:
            lit = _literal_of(module, p.value, wide[0])
            line, col = (lit.line, lit.col) if lit else (int(getattr(p.node, "lineno", 1)), 0)
            yield Hit(line, col, f"over-broad scope requested: {', '.join(sorted(set(wide)))}")


_SCOPE_SETTING = re.compile(r"SOCIAL_AUTH_[A-Z0-9_]+_SCOPE")


def _settings_scopes(module: Analysis) -> Iterator[tuple[Value, ast.AST]]:
    """Scopes in settings that libraries read by name: python-social-auth's
    `SOCIAL_AUTH_<BACKEND>_SCOPE`, django-allauth's `SOCIALACCOUNT_PROVIDERS[...]["SCOPE"]`."""
    for stmt in module.tree.body:
        if not (isinstance(stmt, ast.Assign) and len(stmt.targets) == 1):
            continue
        target = stmt.targets[0]
        if not isinstance(target, ast.Name):
            continue
        value = module.eval(stmt.value, module.module_scope)
        if _SCOPE_SETTING.fullmatch(target.id):
            yield value, stmt
        elif target.id == "SOCIALACCOUNT_PROVIDERS":
            for _provider, config in value.keys:
                scope = config.key("SCOPE")
                if scope is not None:
                    yield scope, stmt


def _too_broad(
    scope: str, allowed: frozenset[str] | None, uses: list[tuple[str, str]], delegated: bool
) -> bool:
    if allowed is not None:
        return scope not in allowed
    if "*" in scope:
        return True
    needs = BROAD.get(scope)
    generic_write = scope.startswith("admin:") or bool(_WRITE_SCOPE.search(scope))
    if needs is None and delegated and generic_write:
        needs = (Need(r".", _WRITES),)  # a write scope: any write call of the module
    if needs is None:
        return False
    return not any(_needed(need, uses) for need in needs)


# Scopes that grant writing, by the words providers use for it (`chat:write`,
# `Mail.ReadWrite`, `files.content.write`, `activity:write`, `manage_pages`, `user:edit`).
_WRITE_SCOPE = re.compile(
    r"(?i)(?<![a-z])(write|readwrite|modify|manage|delete|edit|upload|publish|sudo)"
    r"|ReadWrite"
)


def _needed(need: Need, uses: list[tuple[str, str]]) -> bool:
    return any(
        re.search(need.path, path) and (not need.methods or method in need.methods)
        for method, path in uses
    )


def _api_uses(module: Analysis) -> list[tuple[str, str]]:
    """(method, URL) of the module's calls to provider APIs (not its OAuth endpoints)."""
    found: list[tuple[str, str]] = []
    for http in http_calls(module):
        if is_token_request(module, http.call, http.scope, http.method):
            continue
        url = url_value(module, http.call, http.scope, http.method).all_text()
        found.append((_verb(module, http), url.lower()))
    return found


def _verb(module: Analysis, http: HttpCall) -> str:
    """The HTTP method of a call: its name, or the verb given to `request(...)`."""
    if http.method in lib.VERB_FIRST_METHODS and http.call.args:
        verb = module.eval(http.call.args[0], http.scope).text
        return (verb or "").lower()
    return http.method


def _literal_of(module: Analysis, value: Value, scope: str) -> Origin | None:
    """The literal that holds this scope (the entry of a list, the line of a multi-line
    string), else the first literal."""
    for origin in value.of(Kind.LITERAL):
        text = _literal_text(module, origin)
        if text is not None and scope in text.split():
            return origin
    return first_line(value, Kind.LITERAL)


def _literal_text(module: Analysis, origin: Origin) -> str | None:
    for node in module.nodes:
        if (
            isinstance(node, ast.Constant)
            and isinstance(node.value, str)
            and (node.lineno, node.col_offset) == (origin.line, origin.col)
        ):
            return node.value
    return None

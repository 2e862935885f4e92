"""`[tool.valetkey]` in pyproject.toml: the auditor's project settings.

[tool.valetkey]
allowed-scopes = ["openid", "email", "read:user"]   # OA108 accepts these, flags the rest
exclude = ["tests/fixtures", "migrations/*"]        # paths (glob) not audited
"""

from __future__ import annotations

import tomllib
from pathlib import Path

from valetkey.audit.engine import UsageError
from valetkey.audit.registry import AuditConfig

KNOWN_KEYS = frozenset({"allowed-scopes", "exclude"})


def find_pyproject(start: Path) -> Path | None:
    current = start.resolve()
    for folder in (current, *current.parents):
        candidate = folder / "pyproject.toml"
        if candidate.is_file():
            return candidate
    return None


def load_config(pyproject: Path | None) -> AuditConfig:
    """Read and validate the settings; a bad key or value raises `UsageError`."""
    if pyproject is None:
        return AuditConfig()
    try:
        data = tomllib.loads(pyproject.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise UsageError(f"{pyproject}: cannot read it as TOML ({exc})") from exc
    section = data.get("tool", {}).get("valetkey", {})
    if not isinstance(section, dict):
        raise UsageError(f"{pyproject}: [tool.valetkey] must be a table")
    unknown = sorted(set(section) - KNOWN_KEYS)
    if unknown:
        raise UsageError(
            f"{pyproject}: unknown key [tool.valetkey] {unknown[0]!r}; "
            f"known keys: {', '.join(sorted(KNOWN_KEYS))}"
        )
    scopes = _string_list(section, "allowed-scopes", pyproject)
    exclude = _string_list(section, "exclude", pyproject)
    return AuditConfig(
        allowed_scopes=frozenset(scopes) if "allowed-scopes" in section else None,
        exclude=tuple(exclude),
    )


def _string_list(section: dict[str, object], key: str, pyproject: Path) -> list[str]:
    value = section.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise UsageError(
            f"{pyproject}: [tool.valetkey] {key} = {value!r} must be a list of strings"
        )
    return [str(v) for v in value]

"""One typed, frozen settings object for the sandbox, read from VALETKEY_* variables and flags.

Every value is validated when the settings are built; a bad value raises `SettingsError`
naming the key and the value, so `valetkey serve` can say what to fix in one line.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from valetkey.provider.lab import LabSwitch, parse_lab_switches
from valetkey.provider.store.driver import DURABILITY

AccessTokenFormat = Literal["jwt", "opaque"]

ENV_PREFIX = "VALETKEY_"


class SettingsError(ValueError):
    """A setting has a value the sandbox cannot use; the message names the key and value."""


@dataclass(frozen=True)
class Settings:
    host: str = "127.0.0.1"
    port: int = 8400
    issuer: str = ""  # empty: http://HOST:PORT, filled in once the port is known
    data_dir: Path = Path(".valetkey")
    db: str = ""  # empty: sqlite:///DATA_DIR/valetkey.db
    durability: str = ""  # what a commit survives (store/driver.py); empty: the database's default
    access_token_format: AccessTokenFormat = "jwt"  # noqa: S105 (a format name)
    access_token_ttl: int = 300  # RFC 9700 §2.2.2: short-lived access tokens
    refresh_token_ttl: int = 30 * 24 * 3600
    code_ttl: int = 60  # RFC 6749 §4.1.2: a maximum lifetime of 10 minutes is RECOMMENDED
    session_ttl: int = 8 * 3600
    auth_request_ttl: int = 600
    max_pending_requests: int = 5000  # pending authorization requests stored at once
    prune_interval: int = 60  # seconds between prunings of expired rows
    demo_data: bool = True
    lab: frozenset[LabSwitch] = field(default_factory=frozenset)
    flow_retention: int = 1000  # flows kept in the inspector's records, at most
    flow_retention_days: int = 7  # and for at most this many days
    admin_token: str = field(default="", repr=False)  # empty: generated at start (loopback)
    tenants: tuple[str, ...] = ()  # more issuers in this process, under /tenants/NAME
    registration: bool = True  # RFC 7591 dynamic registration at /register
    max_dynamic_clients: int = 500  # clients that registered themselves, kept at once
    cimd_allow: tuple[str, ...] = ()  # hosts besides loopback that metadata documents may be on

    @property
    def database_url(self) -> str:
        return self.db or f"sqlite:///{self.data_dir / 'valetkey.db'}"

    @property
    def issuer_url(self) -> str:
        return self.issuer or f"http://{self.host}:{self.port}"

    def with_port(self, port: int) -> Settings:
        return replace(self, port=port)


def _int(key: str, raw: str, low: int, high: int) -> int:
    try:
        value = int(raw)
    except ValueError:
        raise SettingsError(f"{key}={raw!r}: expected a whole number") from None
    if not low <= value <= high:
        raise SettingsError(f"{key}={raw!r}: expected a number from {low} to {high}")
    return value


def _bool(key: str, raw: str) -> bool:
    lowered = raw.strip().lower()
    if lowered in {"1", "true", "yes", "on"}:
        return True
    if lowered in {"0", "false", "no", "off"}:
        return False
    raise SettingsError(f"{key}={raw!r}: expected true or false")


def _issuer(key: str, raw: str) -> str:
    parts = urlsplit(raw)
    # OIDC Discovery §4.3 / RFC 8414 §2: https URL with no query or fragment
    if parts.scheme not in {"http", "https"} or not parts.netloc or parts.query or parts.fragment:
        raise SettingsError(f"{key}={raw!r}: expected an http(s) URL with no query or fragment")
    return raw.rstrip("/")


def _format(key: str, raw: str) -> AccessTokenFormat:
    if raw == "jwt":
        return "jwt"
    if raw == "opaque":
        return "opaque"
    raise SettingsError(f"{key}={raw!r}: expected jwt or opaque")


def _tenants(key: str, raw: str) -> tuple[str, ...]:
    names = tuple(dict.fromkeys(n for n in raw.replace(",", " ").split() if n))
    for name in names:
        if not re.fullmatch(r"[a-z0-9][a-z0-9-]{0,39}", name):
            raise SettingsError(f"{key}={raw!r}: tenant names are 1-40 of a-z, 0-9 and -")
    return names


def _admin_token(key: str, raw: str) -> str:
    if len(raw) < 16:
        raise SettingsError(f"{key}: the admin token must have at least 16 characters")
    return raw


def _hosts(key: str, raw: str) -> tuple[str, ...]:
    """Host names (lower case), separated by spaces or commas: no scheme, port or path."""
    names = tuple(dict.fromkeys(n.lower() for n in raw.replace(",", " ").split() if n))
    for name in names:
        if not re.fullmatch(r"[a-z0-9]([a-z0-9.-]{0,251}[a-z0-9])?|\[[0-9a-f:.]+\]", name):
            raise SettingsError(f"{key}={raw!r}: {name!r} is not a host name (no scheme or port)")
    return names


def _db(key: str, raw: str) -> str:
    scheme = raw.split(":", 1)[0]
    if not scheme.startswith(("sqlite", "postgresql")):
        raise SettingsError(f"{key}={raw!r}: expected a sqlite:/// or postgresql:// URL")
    return raw


def _durability(key: str, raw: str) -> str:
    if raw not in DURABILITY:
        raise SettingsError(f"{key}={raw!r}: expected one of {', '.join(DURABILITY)}")
    return raw


def build_settings(
    overrides: Mapping[str, str | None] | None = None, environ: Mapping[str, str] | None = None
) -> Settings:
    """Settings from VALETKEY_* variables, then from explicit overrides (flags) on top.

    Keys are the field names (`port`, `db`, ...); `None` overrides are ignored.
    """
    env = os.environ if environ is None else environ
    raw: dict[str, str] = {}
    for name in Settings.__dataclass_fields__:
        value = env.get(ENV_PREFIX + name.upper())
        if value is not None:
            raw[name] = value
    for name, value in (overrides or {}).items():
        if value is not None:
            raw[name] = value
    return _parse(raw)


Parser = Callable[[str, str], object]

PARSERS: dict[str, Parser] = {
    "host": lambda key, text: text,
    "port": lambda key, text: _int(key, text, 0, 65535),
    "issuer": _issuer,
    "data_dir": lambda key, text: Path(text),
    "db": _db,
    "durability": _durability,
    "access_token_format": _format,
    "access_token_ttl": lambda key, text: _int(key, text, 1, 24 * 3600),
    "refresh_token_ttl": lambda key, text: _int(key, text, 60, 365 * 24 * 3600),
    "code_ttl": lambda key, text: _int(key, text, 1, 600),
    "session_ttl": lambda key, text: _int(key, text, 60, 30 * 24 * 3600),
    "auth_request_ttl": lambda key, text: _int(key, text, 30, 3600),
    "max_pending_requests": lambda key, text: _int(key, text, 10, 1_000_000),
    "prune_interval": lambda key, text: _int(key, text, 1, 86400),
    "demo_data": _bool,
    "lab": parse_lab_switches,
    "flow_retention": lambda key, text: _int(key, text, 10, 1_000_000),
    "flow_retention_days": lambda key, text: _int(key, text, 1, 3650),
    "admin_token": lambda key, text: _admin_token(key, text),
    "tenants": lambda key, text: _tenants(key, text),
    "registration": _bool,
    "max_dynamic_clients": lambda key, text: _int(key, text, 0, 1_000_000),
    "cimd_allow": _hosts,
}


def _parse(raw: Mapping[str, str]) -> Settings:
    values: dict[str, object] = {}
    for name, text in raw.items():
        key = ENV_PREFIX + name.upper()
        parser = PARSERS.get(name)
        if parser is None:
            raise SettingsError(f"{key}: unknown setting")
        try:
            values[name] = parser(key, text)
        except SettingsError:
            raise
        except ValueError as exc:
            raise SettingsError(str(exc)) from None
    return Settings(**values)  # type: ignore[arg-type]

"""The photo-printer app's configuration: from PHOTO_PRINTER_* variables or a `.env` file.

The client secret is read from the environment (or `.env`), never from code, and never
logged. The redirect URI is exactly the registered one, taken from configuration and never
from the incoming request's Host header (RFC 9700 §4.1; LC-11).
"""

from __future__ import annotations

import enum
import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from dotenv import dotenv_values

ProviderKind = Literal["sandbox", "oidc", "github"]
PREFIX = "PHOTO_PRINTER_"
DEFAULT_SCOPE = "openid profile photos.read"
GITHUB_SCOPE = "read:user"


class ClientLab(enum.Enum):
    """Deliberately broken behaviours of the app, for the labs; each warns on every page."""

    NO_STATE_CHECK = "no-state-check"
    ASK_PASSWORD = "ask-password"  # noqa: S105 (a switch name)


CLIENT_LAB_WARNINGS = {
    ClientLab.NO_STATE_CHECK: (
        "this copy does not check that the callback's state belongs to this browser's "
        "sign-in, so it can be logged in to someone else's account (login CSRF)"
    ),
    ClientLab.ASK_PASSWORD: (
        "this copy asks for your provider password itself, the anti-pattern OAuth exists to end"
    ),
}


class ConfigError(ValueError):
    """A setting is missing or wrong; the message names it."""


@dataclass(frozen=True)
class ClientConfig:
    provider: ProviderKind
    client_id: str
    client_secret: str = field(repr=False)
    redirect_uri: str
    discovery_url: str = ""
    scope: str = DEFAULT_SCOPE
    api_base: str = ""  # where /api/photos lives; the sandbox issuer by default
    github_url: str = "https://github.com"
    github_api_url: str = "https://api.github.com"
    account_url: str = ""  # where the user revokes access
    session_key: bytes = field(default_factory=lambda: secrets.token_bytes(32), repr=False)
    lab: frozenset[ClientLab] = frozenset()

    @classmethod
    def for_sandbox(
        cls,
        issuer: str,
        client_id: str,
        client_secret: str,
        redirect_uri: str,
        lab: frozenset[ClientLab] = frozenset(),
    ) -> ClientConfig:
        """The app configured against a valetkey sandbox at `issuer`."""
        return cls(
            provider="sandbox",
            client_id=client_id,
            client_secret=client_secret,
            redirect_uri=redirect_uri,
            discovery_url=issuer + "/.well-known/openid-configuration",
            account_url=issuer + "/account",
            lab=lab,
        )

    @property
    def callback_path(self) -> str:
        from urllib.parse import urlsplit

        return urlsplit(self.redirect_uri).path or "/"


def _settings(environ: Mapping[str, str], env_file: Path | None) -> dict[str, str]:
    values: dict[str, str] = {}
    if env_file is not None and env_file.exists():
        values.update({k: v for k, v in dotenv_values(env_file).items() if v is not None})
    values.update(environ)
    return {k.removeprefix(PREFIX).lower(): v for k, v in values.items() if k.startswith(PREFIX)}


def load_config(
    environ: Mapping[str, str] | None = None,
    env_file: Path | None = Path(".env"),
    overrides: Mapping[str, str] | None = None,
) -> ClientConfig:
    raw = _settings(os.environ if environ is None else environ, env_file)
    raw.update(overrides or {})
    provider = raw.get("provider", "sandbox")
    if provider not in ("sandbox", "oidc", "github"):
        raise ConfigError(f"{PREFIX}PROVIDER={provider!r}: expected sandbox, oidc or github")
    for name in ("client_id", "client_secret", "redirect_uri"):
        if not raw.get(name):
            raise ConfigError(f"{PREFIX}{name.upper()} is not set (environment or .env)")
    if provider != "github" and not raw.get("discovery_url"):
        raise ConfigError(f"{PREFIX}DISCOVERY_URL is not set (the provider's discovery URL)")
    labs = frozenset(ClientLab(v) for v in raw.get("lab", "").replace(",", " ").split())
    key = raw.get("session_key")
    return ClientConfig(
        provider=provider,  # type: ignore[arg-type]
        client_id=raw["client_id"],
        client_secret=raw["client_secret"],
        redirect_uri=raw["redirect_uri"],
        discovery_url=raw.get("discovery_url", ""),
        scope=raw.get("scope", GITHUB_SCOPE if provider == "github" else DEFAULT_SCOPE),
        api_base=raw.get("api_base", ""),
        github_url=raw.get("github_url", "https://github.com").rstrip("/"),
        github_api_url=raw.get("github_api_url", "https://api.github.com").rstrip("/"),
        account_url=raw.get("account_url", ""),
        session_key=key.encode() if key else secrets.token_bytes(32),
        lab=labs,
    )

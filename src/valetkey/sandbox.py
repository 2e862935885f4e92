"""The sandbox from Python, through its public interfaces only.

    from valetkey.sandbox import start

    sandbox = start(tmp_path, "--no-demo-data")
    try:
        app = sandbox.add_client("my-app", ["http://127.0.0.1:5000/callback"])
        sandbox.add_user("carol", "carol-password", name="Carol")
        ...
    finally:
        sandbox.stop()

What is public, and stays stable: this module; the `valetkey serve` command line that it
runs as a child process; and the HTTP interfaces that it speaks, the admin API (users,
clients, flows, faults, clock ...) and the OAuth and OpenID endpoints. Everything else under
`valetkey.provider` is the sandbox's inside. The pytest plugin, `valetkey demo` and the labs
use nothing else.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from valetkey.oauth.flow import FlowEvent
from valetkey.provider import process
from valetkey.useragent.agent import UserAgent

DEFAULT_SCOPES = "openid profile email photos.read offline_access"
DEFAULT_GRANTS = ("authorization_code", "refresh_token")


SandboxStartError = process.SandboxStartError  # it did not start; the message says why


class SandboxError(RuntimeError):
    """The sandbox refused a set-up request; the message carries its answer."""


@dataclass(frozen=True)
class RegisteredClient:
    client_id: str
    client_secret: str | None
    redirect_uris: tuple[str, ...]


@dataclass(frozen=True)
class RegisteredResource:
    uri: str  # canonical: what `aud` carries
    name: str
    scopes: tuple[str, ...]


WEAK_HASHING = "weak-password-hash"  # the lab switch a test sandbox may choose for speed


class Sandbox:
    """A running `valetkey serve`, set up over its admin API."""

    def __init__(
        self, running: process.SandboxProcess, admin_token: str, *, strict_hashing: bool = True
    ) -> None:
        self._process = running
        self.strict_hashing = strict_hashing  # False: started with --lab weak-password-hash
        self.issuer = running.issuer
        self.url = running.url  # where it listens (the issuer may name another instance)
        self.data_dir = running.data_dir
        self.creds: dict[str, Any] = running.creds  # the demo data's passwords, if seeded
        self.discovery_url = f"{running.issuer}/.well-known/openid-configuration"
        # the admin API (see docs/sandbox.md): faults, clock, key rotation, request log ...
        self.admin = httpx.Client(
            base_url=f"{running.issuer}/admin",
            timeout=10,
            headers={"authorization": f"Bearer {admin_token}"},
        )

    def add_user(self, username: str, password: str, **claims: object) -> None:
        """A user with a password and claims (name=..., email=..., email_verified=True)."""
        self._call("POST", "/users", {"username": username, "password": password, "claims": claims})

    def add_client(
        self,
        client_id: str,
        redirect_uris: Sequence[str],
        *,
        public: bool = False,
        secret: str | None = None,
        name: str | None = None,
        scopes: str = DEFAULT_SCOPES,
        grants: Sequence[str] = DEFAULT_GRANTS,
        auth_method: str | None = None,
        response_types: Sequence[str] | None = None,
    ) -> RegisteredClient:
        """Register a client by the rules `valetkey clients add` follows (and its defaults:
        client_secret_basic, or none for a public client; the code response type); a
        confidential one without `secret` gets a fresh one, returned here (the sandbox keeps
        only its hash)."""
        body: dict[str, Any] = {
            "client_id": client_id,
            "redirect_uris": list(redirect_uris),
            "public": public,
            "scopes": scopes,
            "grants": list(grants),
            "name": name or client_id,
        }
        if auth_method is not None:
            body["token_endpoint_auth_method"] = auth_method
        if response_types is not None:
            body["response_types"] = list(response_types)
        if not public:
            body["secret"] = secret or secrets.token_urlsafe(32)
        answer = self._call("POST", "/clients", body)
        return RegisteredClient(
            client_id, answer.get("client_secret"), tuple(answer["redirect_uris"])
        )

    def add_resource(
        self,
        uri: str,
        scopes: Sequence[str],
        *,
        name: str | None = None,
        client_id: str | None = None,
    ) -> RegisteredResource:
        """Register a protected resource (RFC 8707) and the scopes it serves, by the rules
        `valetkey resources add` follows; a client names it with `resource=URI`, and its
        access tokens then carry `aud` = the returned canonical URI. `client_id`: the
        resource server's own confidential client, which may then introspect them."""
        body: dict[str, Any] = {"uri": uri, "scopes": list(scopes)}
        if name is not None:
            body["name"] = name
        if client_id is not None:
            body["client_id"] = client_id
        answer = self._call("POST", "/resources", body)
        return RegisteredResource(answer["uri"], answer["name"], tuple(answer["scopes"]))

    def flows(self, client_id: str | None = None, limit: int = 20) -> list[dict[str, Any]]:
        """Recent flows, newest first (id, client_id, username, outcome, failed_checks ...)."""
        query: dict[str, str | int] = {"limit": limit}
        if client_id is not None:
            query["client_id"] = client_id
        found: list[dict[str, Any]] = self._call("GET", "/flows", params=query)["flows"]
        return found

    def flow_events(self, flow_id: str) -> list[FlowEvent]:
        """The recorded events of one flow, as the inspector draws them."""
        answer = self._call("GET", f"/flows/{flow_id}")
        return [FlowEvent(**event) for event in answer["events"]]

    def login_as(self, username: str, password: str) -> UserAgent:
        """A browser-like session already signed in at the sandbox as this user: hand it
        an authorization URL (`.navigate(url, stop_at=...)`) and it goes straight through."""
        agent = UserAgent(username, password)
        agent.navigate(f"{self.issuer}/login")
        return agent

    def __repr__(self) -> str:
        hashing = "strict" if self.strict_hashing else f"weak (--lab {WEAK_HASHING})"
        return f"<Sandbox {self.issuer} password hashing: {hashing}>"

    def output(self) -> str:
        """What the server printed so far."""
        return self._process.output()

    def running(self) -> bool:
        return self._process.proc.poll() is None

    def stop(self) -> None:
        self.admin.close()
        self._process.stop()

    def _call(
        self,
        method: str,
        path: str,
        body: dict[str, Any] | None = None,
        params: dict[str, str | int] | None = None,
    ) -> dict[str, Any]:
        response = self.admin.request(method, path, json=body, params=params)
        if response.status_code >= 300:
            raise SandboxError(f"{method} /admin{path}: {response.status_code} {response.text}")
        answer: dict[str, Any] = response.json()
        return answer


def start(
    data_dir: Path,
    *args: str,
    db: str | None = None,
    env: dict[str, str] | None = None,
    strict_hashing: bool = True,
) -> Sandbox:
    """Start `valetkey serve ARGS` on a free loopback port, its data in `data_dir` (SQLite
    there unless `db` names a database), with a fresh admin token; stop it with `.stop()`.

    `strict_hashing=False` adds `--lab weak-password-hash`: passwords hashed with argon2id
    at 1 MiB and one pass instead of the default 19 MiB and two, so that each sign-in costs
    about a millisecond of hashing instead of tens. For test suites only: the sandbox warns,
    and the repr says so."""
    if not strict_hashing and WEAK_HASHING not in args:
        args = (*args, "--lab", WEAK_HASHING)
    token = secrets.token_urlsafe(24)
    running = process.start(
        data_dir, *args, db=db, env={**(env or {}), "VALETKEY_ADMIN_TOKEN": token}
    )
    return Sandbox(running, token, strict_hashing=WEAK_HASHING not in args)

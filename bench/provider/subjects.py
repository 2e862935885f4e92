"""The servers under test: valetkey in several configurations and the peers.

A subject is a server spec plus what the benchmark can drive on it: client-credentials
token requests (wrk) and/or complete authorization-code + PKCE flows (httpx).
"""

from __future__ import annotations

import json
import secrets
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from flows import FlowTarget
from load import Endpoint
from peers import NODE_DIR, Peers, SetupError
from servers import ServerSpec, running

from valetkey.provider.passwords import STRICT

CC_CLIENT = "bench-cc"
CC_SECRET = "bench-cc-secret-0123456789abcdef"  # bench-only, 127.0.0.1
CODE_SECRET = "bench-code-secret-0123456789abcdef"  # bench-only, oidc-provider's code client
REDIRECT_URI = "http://127.0.0.1:8500/callback"
SCOPE = "openid profile photos.read"
ARGON2_DEFAULT = "argon2id m=19 MiB, t=2, p=1 (valetkey default, OWASP minimum)"
ARGON2_WEAK = "argon2id m=1 MiB, t=1, p=1 (--lab weak-password-hash)"
DURABLE_SQLITE = "SQLite WAL, synchronous=NORMAL: survives a process crash, not a power loss"
IN_MEMORY = "in memory: lost on restart"
DEMO_USER = "alice"


@dataclass(frozen=True)
class CcDrive:
    token_path: str
    client_id: str
    secret: str


@dataclass(frozen=True)
class FlowDrive:
    authorize_path: str
    token_path: str
    client_id: str
    secret: str
    scope: str
    fill: dict[str, str]


@dataclass(frozen=True)
class Subject:
    spec: ServerSpec
    cc: CcDrive | None
    flow: FlowDrive | None
    comparable: bool
    password_check: str
    durability: str
    tag: str = ""

    @property
    def name(self) -> str:
        return self.spec.name

    def endpoint(self, base_url: str) -> Endpoint | None:
        if self.cc is None:
            return None
        return Endpoint(base_url + self.cc.token_path, self.cc.client_id, self.cc.secret)

    def flow_target(self, base_url: str) -> FlowTarget | None:
        f = self.flow
        if f is None:
            return None
        return FlowTarget(
            base_url + f.authorize_path,
            base_url + f.token_path,
            f.client_id,
            f.secret,
            REDIRECT_URI,
            f.scope,
            f.fill,
        )


def valetkey_exe() -> str:
    exe = Path(sys.executable).parent / "valetkey"
    if not exe.exists():
        raise SetupError(f"{exe} not found; run this with the project venv: .venv/bin/python")
    return str(exe)


def valetkey_argv(data_dir: Path, token_format: str, weak: bool) -> tuple[str, ...]:
    argv = [valetkey_exe(), "serve", "--port", "{port}", "--data-dir", str(data_dir)]
    argv += ["--access-token-format", token_format]
    if weak:
        argv += ["--lab", "weak-password-hash"]
    return tuple(argv)


def _register_cc_client(data_dir: Path) -> None:
    add = [valetkey_exe(), "clients", "add", CC_CLIENT, "--secret", CC_SECRET]
    add += ["--grant", "client_credentials", "--scope", "photos.read"]
    done = subprocess.run([*add, "--data-dir", str(data_dir)], capture_output=True, text=True)
    if done.returncode != 0:
        raise SetupError(f"valetkey clients add failed: {done.stderr.strip()[-500:]}")


def _valetkey(name: str, data_dir: Path, token_format: str, weak: bool, logs: Path) -> Subject:
    """Register bench-cc, start once (creates the demo data with this server's hash), read it."""
    _register_cc_client(data_dir)
    spec = ServerSpec(
        name,
        "valetkey",
        valetkey_argv(data_dir, token_format, weak),
        token_format=token_format,
        notes="SQLite file (WAL), tokens stored",
    )
    with running(spec, logs):
        pass
    creds = json.loads((data_dir / "demo-credentials.json").read_text())
    fill = {"username": DEMO_USER, "password": creds["users"][DEMO_USER], "decision": "allow"}
    flow = FlowDrive("/authorize", "/token", "photo-printer", creds["client_secret"], SCOPE, fill)
    return Subject(
        spec,
        CcDrive("/token", CC_CLIENT, CC_SECRET),
        flow,
        comparable=True,
        password_check=ARGON2_WEAK if weak else ARGON2_DEFAULT,
        durability=DURABLE_SQLITE,
    )


def valetkey_subjects(work: Path, logs: Path) -> list[Subject]:
    return [
        _valetkey("valetkey-opaque", work / "vk-opaque", "opaque", False, logs),
        _valetkey("valetkey-jwt", work / "vk-jwt", "jwt", False, logs),
        _valetkey("valetkey-opaque-weakhash", work / "vk-weak", "opaque", True, logs),
    ]


def valetkey_argon2_costs() -> str:
    """valetkey's default argon2id costs, read from its source, as the .mjs takes them."""
    return f"m={STRICT.memory_cost},t={STRICT.time_cost},p={STRICT.parallelism}"


def _oidc_provider(
    peers: Peers, token_format: str, remember: bool = True, argon2: bool = False
) -> Subject:
    password = secrets.token_urlsafe(18) if argon2 else "not-checked"
    env = {
        "BENCH_PORT": "{port}",
        "BENCH_JWKS": str(peers.jwks_file),
        "BENCH_TOKEN_FORMAT": token_format,
        "BENCH_CC_SECRET": CC_SECRET,
        "BENCH_CODE_SECRET": CODE_SECRET,
        "BENCH_REDIRECT_URI": REDIRECT_URI,
        "BENCH_REMEMBER_CONSENT": "1" if remember else "0",
    }
    if argon2:
        env["BENCH_LOGIN_ARGON2"] = valetkey_argon2_costs()
        env["BENCH_LOGIN_USER"] = DEMO_USER
        env["BENCH_LOGIN_PASSWORD"] = password  # bench-only, made per run
    fill = {"login": DEMO_USER, "password": password}
    suffix = ("-argon2" if argon2 else "") + ("" if remember else "-consent-each-flow")
    login = (
        f"login verifies an argon2id hash ({valetkey_argon2_costs()}, @node-rs/argon2)"
        if argon2
        else "devInteractions"
    )
    spec = ServerSpec(
        f"oidc-provider-{token_format}{suffix}",
        "oidc-provider",
        (peers.node, str(peers.server_mjs)),
        env=env,
        cwd=NODE_DIR,
        token_format=token_format,
        notes=f"in-memory LRU adapter (1000 entries); {login}; "
        + (
            "consent remembered per account+client via loadExistingGrant (as valetkey)"
            if remember
            else "oidc-provider default: consent in every new browser session"
        ),
    )
    flow = FlowDrive("/auth", "/token", "photo-printer", CODE_SECRET, SCOPE, fill)
    return Subject(
        spec,
        CcDrive("/token", CC_CLIENT, CC_SECRET) if remember and not argon2 else None,
        flow if token_format == "opaque" else None,
        comparable=remember,
        password_check=f"argon2id {valetkey_argon2_costs()} (valetkey's default), @node-rs/argon2"
        if argon2
        else "none: devInteractions accepts any login and ignores the password",
        durability=IN_MEMORY,
        tag="" if remember else "reference, not the target's peer",
    )


def peer_subjects(peers: Peers) -> list[Subject]:
    mock_server = ServerSpec(
        "oauth2-mock-server",
        "oauth2-mock-server",
        (
            peers.node,
            str(peers.mock_server_js),
            "-a",
            "127.0.0.1",
            "-p",
            "{port}",
            "--jwk",
            str(peers.ec_jwk_file),
        ),
        token_format="jwt",
        notes="no client authentication, no storage, no login: not comparable",
    )
    py_mock = ServerSpec(
        "oidc-provider-mock",
        "oidc-provider-mock",
        (str(peers.mock_python), "-m", "oidc_provider_mock", "-H", "127.0.0.1", "-p", "{port}"),
        notes="no client_credentials grant; login = type any subject, no password, no consent; "
        "accepts any client secret: not comparable",
    )
    mock_flow = FlowDrive("/authorize", "/token", "any-client", "any", "openid profile", {})
    py_flow = FlowDrive(
        "/oauth2/authorize",
        "/oauth2/token",
        "any-client",
        "any",
        "openid profile",
        {"sub": "alice"},
    )
    return [
        _oidc_provider(peers, "opaque"),
        _oidc_provider(peers, "opaque", argon2=True),
        _oidc_provider(peers, "jwt"),
        _oidc_provider(peers, "opaque", remember=False),
        Subject(
            mock_server,
            CcDrive("/token", CC_CLIENT, CC_SECRET),
            mock_flow,
            False,
            "none: no login at all (redirects straight back with a code)",
            durability=IN_MEMORY,
            tag="not comparable",
        ),
        Subject(
            py_mock,
            None,
            py_flow,
            False,
            "none: any subject, no password",
            durability=IN_MEMORY,
            tag="not comparable",
        ),
    ]

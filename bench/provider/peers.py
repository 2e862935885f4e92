"""Install the peers by name into the git-ignored scratch folder bench/.peers/.

npm: `oidc-provider` (driven by our oidc_provider_server.mjs), `@node-rs/argon2` (its argon2
login variant; prebuilt binaries, nothing compiled) and `oauth2-mock-server`;
PyPI: `oidc-provider-mock` in its own venv. A shared ES256 (P-256) key is generated once
with node so that every server that signs with ES256 uses the same kind of key.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent.parent
PEERS_DIR = BENCH_DIR / ".peers"
NODE_DIR = PEERS_DIR / "node"
MOCK_VENV = PEERS_DIR / "oidc-provider-mock-venv"
SERVER_MJS = Path(__file__).resolve().parent / "oidc_provider_server.mjs"

NPM_PACKAGES = ("oidc-provider@^9", "@node-rs/argon2@^2", "oauth2-mock-server@^8")
PYPI_PACKAGES = ("oidc-provider-mock>=0.3,<0.4",)
INSTALL_TIMEOUT_S = 600

KEYGEN_JS = """
const { generateKeyPairSync } = require('node:crypto');
const jwk = (type, options, extra) => Object.assign(
  generateKeyPairSync(type, options).privateKey.export({ format: 'jwk' }), extra);
const keys = [
  jwk('rsa', { modulusLength: 2048 }, { kid: 'bench-rs256', alg: 'RS256', use: 'sig' }),
  jwk('ec', { namedCurve: 'P-256' }, { kid: 'bench-es256', alg: 'ES256', use: 'sig' }),
];
process.stdout.write(JSON.stringify({ keys }));
"""


class SetupError(RuntimeError):
    """A missing tool or a failed install; the message says what to do."""


@dataclass(frozen=True)
class Peers:
    node: str
    server_mjs: Path
    mock_server_js: Path
    jwks_file: Path
    ec_jwk_file: Path
    mock_python: Path
    versions: dict[str, str]


def require_tool(name: str, hint: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise SetupError(f"`{name}` is not on PATH; {hint}")
    return path


def _run(cmd: list[str], cwd: Path | None = None) -> str:
    try:
        done = subprocess.run(
            cmd, cwd=cwd, capture_output=True, text=True, timeout=INSTALL_TIMEOUT_S, check=False
        )
    except subprocess.TimeoutExpired:
        raise SetupError(f"timed out after {INSTALL_TIMEOUT_S} s: {' '.join(cmd)}") from None
    if done.returncode != 0:
        tail = (done.stderr or done.stdout).strip()[-2000:]
        raise SetupError(f"failed ({done.returncode}): {' '.join(cmd)}\n{tail}")
    return done.stdout


def _install_npm(npm: str) -> None:
    NODE_DIR.mkdir(parents=True, exist_ok=True)
    package_json = NODE_DIR / "package.json"
    if not package_json.exists():
        package_json.write_text(json.dumps({"name": "valetkey-bench-peers", "private": True}))
    names = ("oidc-provider", "@node-rs/argon2", "oauth2-mock-server")
    if not all((NODE_DIR / "node_modules" / n / "package.json").exists() for n in names):
        _run([npm, "install", "--no-audit", "--no-fund", *NPM_PACKAGES], cwd=NODE_DIR)
    shutil.copyfile(SERVER_MJS, NODE_DIR / SERVER_MJS.name)


def _install_mock_venv() -> Path:
    python = MOCK_VENV / "bin" / "python"
    if not python.exists():
        _run([sys.executable, "-m", "venv", str(MOCK_VENV)])
    if not (MOCK_VENV / "bin" / "oidc-provider-mock").exists():
        _run([str(python), "-m", "pip", "install", "-q", *PYPI_PACKAGES])
    return python


def _keys(node: str) -> tuple[Path, Path]:
    """RS256 (ID tokens, both products' default) and ES256 (JWT access tokens) keys."""
    jwks_file = PEERS_DIR / "jwks-rs256-es256.json"
    ec_file = PEERS_DIR / "ec-es256.jwk.json"
    if not jwks_file.exists() or not ec_file.exists():
        jwks = json.loads(_run([node, "-e", KEYGEN_JS]))
        jwks_file.write_text(json.dumps(jwks))
        ec_file.write_text(json.dumps(jwks["keys"][1]))
    return jwks_file, ec_file


def _npm_version(name: str) -> str:
    data = json.loads((NODE_DIR / "node_modules" / name / "package.json").read_text())
    return str(data["version"])


def _pip_version(python: Path, name: str) -> str:
    code = f"import importlib.metadata as m; print(m.version({name!r}))"
    return _run([str(python), "-c", code]).strip()


def install() -> Peers:
    """Install (or reuse) every peer; raises SetupError with a clear message."""
    node = require_tool("node", "install Node.js (apt-get install -y nodejs npm)")
    npm = require_tool("npm", "install npm (apt-get install -y npm)")
    _install_npm(npm)
    mock_python = _install_mock_venv()
    jwks_file, ec_file = _keys(node)
    versions = {
        "node": _run([node, "--version"]).strip(),
        "oidc-provider": _npm_version("oidc-provider"),
        "@node-rs/argon2": _npm_version("@node-rs/argon2"),
        "oauth2-mock-server": _npm_version("oauth2-mock-server"),
        "oidc-provider-mock": _pip_version(mock_python, "oidc-provider-mock"),
    }
    return Peers(
        node=node,
        server_mjs=NODE_DIR / SERVER_MJS.name,
        mock_server_js=NODE_DIR / "node_modules/oauth2-mock-server/dist/oauth2-mock-server.mjs",
        jwks_file=jwks_file,
        ec_jwk_file=ec_file,
        mock_python=mock_python,
        versions=versions,
    )

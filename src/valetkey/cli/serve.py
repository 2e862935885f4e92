"""`valetkey serve`: run the sandbox provider."""

from __future__ import annotations

import contextlib
import errno
import json
import logging
import os
import secrets
import socket
import stat
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

import click

from valetkey.cli.common import database_options, load_settings, store_for
from valetkey.provider.lab import LabSwitch
from valetkey.provider.settings import Settings

if TYPE_CHECKING:
    from valetkey.provider.core import Provider

CREDENTIALS_FILE = "demo-credentials.json"


def _bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise click.ClickException(
            f"cannot listen on {host}:{port}: {exc.strerror}. Pick another --port (0 = any free)."
        ) from None
    sock.listen(2048)
    sock.set_inheritable(True)
    return sock


def _open_credentials(path: Path, flags: int) -> int:
    """The credentials file's descriptor, made 0600 (also when it existed with a wider mode),
    never through a symbolic link and only for a regular file."""
    try:
        fd = os.open(path, flags | os.O_NOFOLLOW | os.O_NONBLOCK, 0o600)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise click.ClickException(
                f"{path} is a symbolic link; the demo credentials are never written or read "
                "through one. Remove it and start again."
            ) from None
        raise click.ClickException(f"cannot open {path}: {exc.strerror}.") from None
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise click.ClickException(f"{path} is not a regular file. Remove it and start again.")
        os.fchmod(fd, 0o600)
    except BaseException as exc:
        os.close(fd)
        if isinstance(exc, PermissionError):
            raise click.ClickException(f"cannot make {path} private: {exc.strerror}.") from None
        raise
    return fd


def _save_credentials(settings: Settings, data: dict[str, object]) -> Path:
    path = settings.data_dir / CREDENTIALS_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = _open_credentials(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
    with os.fdopen(fd, "w") as handle:
        json.dump(data, handle, indent=2)
    return path


def _demo_lines(settings: Settings) -> list[str]:
    path = settings.data_dir / CREDENTIALS_FILE
    if not path.exists() and not path.is_symlink():
        return []
    fd = _open_credentials(path, os.O_RDONLY)
    with os.fdopen(fd) as handle:
        try:
            data = json.load(handle)
        except ValueError:
            return [f"  WARNING {path} is not valid JSON; delete it to get new demo data."]
    lines = [f"Demo data (also in {path}):"]
    for name, password in data["users"].items():
        lines.append(f"  user    {name:<20} password {password}")
    lines.append(f"  client  photo-printer        secret {data['client_secret']}")
    lines.append(f"          redirect URIs        {' '.join(data['redirect_uris'])}")
    lines.append("  client  photo-printer-spa    public (PKCE)")
    lines.append(f"          redirect URIs        {' '.join(data['spa_redirect_uris'])}")
    return lines


def _seed(settings: Settings, provider: Provider) -> None:
    from valetkey.provider.demo_data import seed

    implicit = provider.lab(LabSwitch.IMPLICIT)
    made = seed(provider.store, provider.passwords, time.time(), implicit_lab=implicit)
    if made is not None:
        _save_credentials(
            settings,
            {
                "users": made.passwords,
                "client_secret": made.client_secret,
                "redirect_uris": list(made.redirect_uris),
                "spa_redirect_uris": list(made.spa_redirect_uris),
            },
        )


@click.command()
@click.option("--host", default=None, help="Address to listen on [default: 127.0.0.1]")
@click.option("--port", type=int, default=None, help="Port; 0 picks a free one [default: 8400]")
@click.option("--issuer", default=None, help="Issuer URL [default: http://HOST:PORT]")
@database_options
@click.option(
    "--durability",
    type=click.Choice(["app-crash", "power-loss"]),
    default=None,
    help="What a commit survives. app-crash: valetkey killed at any point loses nothing it "
    "answered for (SQLite synchronous=NORMAL, PostgreSQL synchronous_commit=off); a machine "
    "crash can lose the last commits. power-loss: every commit is on disk before the answer "
    "(SQLite FULL, PostgreSQL on).  [env VALETKEY_DURABILITY; default: app-crash on SQLite, "
    "power-loss on PostgreSQL]",
)
@click.option(
    "--access-token-format",
    type=click.Choice(["jwt", "opaque"]),
    default=None,
    help="RFC 9068 JWT (ES256) or opaque access tokens [default: jwt]",
)
@click.option(
    "--lab",
    "labs",
    multiple=True,
    type=click.Choice([s.value for s in LabSwitch]),
    help="Turn on a named, deliberately insecure behaviour. Repeatable. Warns loudly.",
)
@click.option(
    "--probe-mode",
    is_flag=True,
    help="Let `valetkey probe client` see the back channel and forge responses "
    "(the probe-mode lab switch; never for real use).",
)
@click.option(
    "--tenant",
    "tenants",
    multiple=True,
    metavar="NAME",
    help="Another issuer under /tenants/NAME with its own keys, users and clients. "
    "Repeatable.  [env VALETKEY_TENANTS]",
)
@click.option("--no-demo-data", is_flag=True, help="Do not create the demo users and clients.")
@click.option(
    "--no-registration",
    is_flag=True,
    help="Turn RFC 7591 dynamic registration off (/register answers 404, not advertised).",
)
@click.option(
    "--cimd-allow",
    "cimd_allow",
    multiple=True,
    metavar="HOST",
    help="Let client ID metadata documents be fetched from HOST too (by default only from "
    "loopback: an SSRF guard). Repeatable.  [env VALETKEY_CIMD_ALLOW]",
)
def serve(
    host: str | None,
    port: int | None,
    issuer: str | None,
    db: str | None,
    data_dir: str | None,
    durability: str | None,
    access_token_format: str | None,
    labs: tuple[str, ...],
    no_demo_data: bool,
    probe_mode: bool,
    tenants: tuple[str, ...],
    no_registration: bool,
    cimd_allow: tuple[str, ...],
) -> None:
    """Run the sandbox OAuth 2.0 + OpenID Connect provider.

    Strict by default: authorization code flow only, exact redirect URIs, PKCE (S256),
    single-use codes, rotating refresh tokens, RFC 9207 `iss`. Every option can also be set
    as VALETKEY_<NAME> (e.g. VALETKEY_PORT=8400).

    \b
    Examples:
      valetkey serve                          # http://127.0.0.1:8400, ./.valetkey/valetkey.db
      valetkey serve --port 0                 # any free port
      valetkey serve --db postgresql://127.0.0.1/test
    """
    started = time.perf_counter()
    settings = load_settings(
        host=host,
        port=port,
        issuer=issuer,
        db=db,
        data_dir=data_dir,
        durability=durability,
        access_token_format=access_token_format,
        lab=" ".join([*labs, *(["probe-mode"] if probe_mode else [])]) or None,
        demo_data="false" if no_demo_data else None,
        tenants=" ".join(tenants) or None,
        registration="false" if no_registration else None,
        cimd_allow=" ".join(cimd_allow) or None,
    )
    sock = _bind(settings.host, settings.port)
    settings = settings.with_port(sock.getsockname()[1])
    _run(settings, sock, started)


def _admin(provider: Provider, settings: Settings) -> str:
    """The admin API's token: the one set, or a fresh one on a loopback bind (else off)."""
    from valetkey.oauth.redirect_uris import is_loopback

    if settings.admin_token:
        return "  Admin API:  /admin (token from VALETKEY_ADMIN_TOKEN)"
    if not is_loopback(settings.host):
        return "  Admin API:  off on a non-loopback address; set VALETKEY_ADMIN_TOKEN to use it"
    provider.admin_token = secrets.token_urlsafe(24)
    return f"  Admin API:  /admin with Authorization: Bearer {provider.admin_token}"


def _tenant(settings: Settings, name: str, admin_token: str) -> Provider:
    """Another issuer under /tenants/NAME: its own store, keys, users and clients (empty:
    set it up through its admin API, /tenants/NAME/admin, with the same token)."""
    from valetkey.provider.core import Provider
    from valetkey.provider.store.open import StoreUnavailable, open_store

    try:
        tenant = Provider(settings, open_store(settings, name), tenant=name)
    except StoreUnavailable as exc:
        raise click.ClickException(f"tenant {name}: {exc}") from None
    tenant.admin_token = admin_token
    return tenant


def _lean_log_records() -> None:
    """Log records without what our format never prints: the caller's file and line, the
    thread, the process (the logging HOWTO's "Optimization" table). A lab switch writes a
    warning at every request, so under load this is measurable."""
    logging.logThreads = False
    logging.logProcesses = False
    logging.logMultiprocessing = False
    logging._srcfile = None  # the HOWTO's documented switch


def _run(settings: Settings, sock: socket.socket, started: float) -> None:
    import uvicorn

    from valetkey.provider.app import Housekeeper, create_app, quietly
    from valetkey.provider.core import Provider
    from valetkey.provider.file_modes import private_umask, secure_folder, secure_sqlite_files
    from valetkey.provider.http_limits import MAX_CONNECTIONS, BoundedHttpToolsProtocol
    from valetkey.provider.store.open import tenant_database

    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    logging.getLogger("alembic").setLevel(logging.WARNING)
    _lean_log_records()
    private_umask()  # the database and the credentials file hold secrets
    file_notes = secure_folder(settings.data_dir)
    provider = Provider(settings, store_for(settings))
    admin_line = _admin(provider, settings)
    tenants = [_tenant(settings, name, provider.admin_token) for name in settings.tenants]
    for name in ("", *settings.tenants):
        file_notes += secure_sqlite_files(tenant_database(settings, name)[0])
    if settings.demo_data:
        _seed(settings, provider)
    app = create_app(provider, tenants)
    lines = [
        "valetkey sandbox provider",
        f"  Issuer:     {provider.issuer}",
        f"  Listening:  http://{settings.host}:{settings.port}",
        f"  Discovery:  {provider.issuer}/.well-known/openid-configuration",
        f"  Account:    {provider.issuer}/account",
        f"  Database:   {settings.database_url.split('@')[-1]}"
        f" (durability: {provider.store.database.durability})",
        admin_line,
        *(f"  Tenant:     {tenant.issuer}" for tenant in tenants),
        *(_demo_lines(settings) if settings.demo_data else []),
        *file_notes,
    ]
    for switch in sorted(settings.lab, key=str):
        lines.append(f"  WARNING lab switch {switch.value}: {switch.warning}")
    lines.append(f"Ready in {time.perf_counter() - started:.2f} s. Press Ctrl-C to stop.")
    click.echo("\n".join(lines))
    sys.stdout.flush()
    config = uvicorn.Config(
        app,
        log_level="warning",
        access_log=False,
        lifespan="off",
        loop="uvloop",
        ws="none",
        http=BoundedHttpToolsProtocol,  # header limits and slow-client deadlines
        limit_concurrency=MAX_CONNECTIONS,
        timeout_keep_alive=5,
        server_header=False,
    )
    housekeeper = Housekeeper(
        [quietly(issuer.prune_now, "pruning expired rows") for issuer in (provider, *tenants)],
        settings.prune_interval,
    )
    housekeeper.start()  # expired rows go on a timer too, not only after token requests
    with contextlib.suppress(KeyboardInterrupt):  # uvicorn re-raises Ctrl-C after shutdown
        uvicorn.Server(config).run(sockets=[sock])
    housekeeper.stop()
    click.echo("valetkey sandbox stopped.")

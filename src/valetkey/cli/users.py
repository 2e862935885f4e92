"""`valetkey users`: add and list the sandbox's users, straight in the database."""

from __future__ import annotations

import json
import time

import click
from rich.console import Console
from rich.table import Table

from valetkey.cli.common import database_options, load_settings, store_for
from valetkey.provider.lab import LabSwitch
from valetkey.provider.passwords import Passwords
from valetkey.provider.store.queries import DuplicateError


def _claim(text: str) -> tuple[str, object]:
    name, sep, raw = text.partition("=")
    if not sep or not name:
        raise click.BadParameter(f"{text!r}: expected name=value, e.g. email=alice@example.org")
    if name in {"sub", "iss", "aud", "exp", "iat", "nonce"}:
        raise click.BadParameter(f"{name!r} is set by the provider and cannot be a stored claim")
    try:
        value: object = json.loads(raw)
        if not isinstance(value, (bool, int, float)):
            value = raw
    except ValueError:
        value = raw
    return name, value


@click.group()
def users() -> None:
    """Add and list the sandbox's users (works on the database; no server needed)."""


@users.command("add")
@click.argument("username")
@click.option(
    "--password",
    prompt=True,
    hide_input=True,
    confirmation_prompt=True,
    help="The user's password (prompted for, hidden, when not given).",
)
@click.option(
    "--claim",
    "claims",
    multiple=True,
    metavar="NAME=VALUE",
    help="A claim for the ID token and userinfo, e.g. --claim email=a@example.org "
    "--claim email_verified=true. Repeatable.",
)
@click.option(
    "--weak-hash",
    is_flag=True,
    help="Hash with the weak-password-hash lab parameters (for load tests only).",
)
@database_options
def add(
    username: str,
    password: str,
    claims: tuple[str, ...],
    weak_hash: bool,
    db: str | None,
    data_dir: str | None,
) -> None:
    """Add USERNAME with a password (hashed with argon2id) and optional claims.

    \b
    Example:
      valetkey users add carol --password 's3cret-pass' --claim name='Carol Jones'
    """
    if not username or len(username) > 150:
        raise click.BadParameter("a username has 1 to 150 characters", param_hint="USERNAME")
    parsed = dict(_claim(c) for c in claims)
    store = store_for(load_settings(db=db, data_dir=data_dir))
    hasher = Passwords(weak=weak_hash)
    try:
        user = store.add_user(username, hasher.hash(password), parsed, time.time())
    except DuplicateError as exc:
        raise click.ClickException(f"{exc}; pick another username") from None
    if weak_hash:
        click.echo(f"warning: {LabSwitch.WEAK_PASSWORD_HASH.warning}", err=True)
    click.echo(f"added user {user.username} (sub {user.sub})")


@users.command("list")
@database_options
def list_users(db: str | None, data_dir: str | None) -> None:
    """List users with their subject identifiers and claims."""
    store = store_for(load_settings(db=db, data_dir=data_dir))
    table = Table("username", "sub", "claims")
    for user in store.users():
        table.add_row(user.username, user.sub, json.dumps(user.claims, sort_keys=True))
    Console().print(table)

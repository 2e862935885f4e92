"""File modes of what the sandbox keeps on disk: the data folder and the SQLite files.

The database holds the private signing keys, the CSRF key, password hashes and pending
requests, so the data folder is made 0700 and the database, WAL and SHM files 0600, also
when they already exist with wider modes. Something we do not own is left as it is, and
named in a start-up line.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

PRIVATE_DIR = 0o700
PRIVATE_FILE = 0o600
SQLITE_SUFFIXES = ("", "-wal", "-shm", "-journal")


def private_umask() -> None:
    """Files and folders this process creates from now on are for its user only."""
    os.umask(0o077)


def _tighten(path: Path, mode: int) -> str | None:
    """chmod `path` to `mode` if it is wider; a line when that was not ours to do."""
    try:
        info = path.lstat()
    except FileNotFoundError:
        return None
    if stat.S_ISLNK(info.st_mode) or stat.S_IMODE(info.st_mode) & 0o077 == 0:
        return None
    if info.st_uid != os.geteuid():
        return (
            f"  WARNING {path} is readable by others (mode {stat.S_IMODE(info.st_mode):o}) "
            "and not ours to change: it holds private keys; chmod it or use another folder."
        )
    try:
        os.chmod(path, mode)
    except OSError as exc:
        return f"  WARNING cannot make {path} private ({exc.strerror}); chmod it to {mode:o}."
    return None


def secure_folder(path: Path) -> list[str]:
    """Make the data folder 0700 (created so if missing); warnings for what stays shared."""
    path.mkdir(parents=True, exist_ok=True, mode=PRIVATE_DIR)
    line = _tighten(path, PRIVATE_DIR)
    return [line] if line else []


def secure_sqlite_files(database_url: str) -> list[str]:
    """Make a SQLite database file and its WAL, SHM and journal files 0600."""
    if not database_url.startswith("sqlite"):
        return []
    target = database_url.split("://", 1)[1]
    target = (target[1:] if target.startswith("/") else target).split("?", 1)[0]
    if target in ("", ":memory:"):
        return []
    lines = []
    for suffix in SQLITE_SUFFIXES:
        line = _tighten(Path(target + suffix), PRIVATE_FILE)
        if line:
            lines.append(line)
    return lines

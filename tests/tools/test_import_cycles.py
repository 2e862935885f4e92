"""tools/import_cycles.py: every import counts (local, TYPE_CHECKING), and src/ has none."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "tools" / "import_cycles.py"


def _run(src: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(SCRIPT), str(src)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def _tree(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / "src" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root / "src"


def test_src_has_no_import_cycle() -> None:
    result = _run(ROOT / "src")
    assert result.returncode == 0, result.stdout
    count = len(list((ROOT / "src").rglob("*.py")))
    assert result.stdout == (
        f"no import cycle among {count} modules in {ROOT / 'src'}, nor among their packages\n"
    )


def test_cycle_behind_type_checking_and_a_local_import(tmp_path: Path) -> None:
    src = _tree(
        tmp_path,
        {
            "app/__init__.py": "",
            "app/a.py": (
                "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from app.b import B\n"
            ),
            "app/b.py": "def f():\n    from . import a\n    return a\n",
        },
    )
    result = _run(src)
    assert result.returncode == 1
    assert result.stdout.splitlines() == [
        "import cycle: app.a -> app.b -> app.a",
        f"    {Path('src/app/a.py')}:3 imports app.b",
        f"    {Path('src/app/b.py')}:2 imports app.a",
        "1 import cycle(s), 0 package cycle(s) in " + str(src),
    ]


def test_package_init_counts_only_from_outside_the_package(tmp_path: Path) -> None:
    """A package whose __init__ imports its own modules is no cycle; a module outside it
    that the __init__ imports back is one."""
    src = _tree(
        tmp_path,
        {
            "app/__init__.py": "",
            "app/checks/__init__.py": "from app.checks import one\n",
            "app/checks/one.py": "from app.checks.base import check\n",
            "app/checks/base.py": "check = 1\n",
            "app/core.py": "import app.checks.base\n",
        },
    )
    assert _run(src).returncode == 0
    (src / "app" / "checks" / "base.py").write_text("from app import core\ncheck = 1\n")
    result = _run(src)
    assert result.returncode == 1
    assert result.stdout.splitlines()[0] == (
        "import cycle: app.checks -> app.checks.one -> app.checks.base -> app.core -> app.checks"
    )


def test_cycle_between_packages(tmp_path: Path) -> None:
    src = _tree(
        tmp_path,
        {
            "app/__init__.py": "",
            "app/server/__init__.py": "",
            "app/server/store.py": "from app.render.model import Event\n",
            "app/render/__init__.py": "",
            "app/render/model.py": "class Event: ...\n",
            "app/render/draw.py": "from app.server.store import rows\n",
        },
    )
    result = _run(src)
    assert result.returncode == 1
    assert result.stdout.splitlines() == [
        "package cycle: app.render -> app.server -> app.render",
        f"    {Path('src/app/render/draw.py')}:1 imports app.server.store",
        f"    {Path('src/app/server/store.py')}:1 imports app.render.model",
        "0 import cycle(s), 1 package cycle(s) in " + str(src),
    ]

"""`valetkey audit` on hostile trees (issue 15): FIFOs, devices, link loops, huge and deeply
nested files. Each is skipped with a per-file message; the scan always finishes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner

from valetkey.cli.audit import audit

from .conftest import FIXTURES

NOT_REGULAR = "not a regular file"
BAD = (FIXTURES / "oa105" / "bad_authlib_register.py").read_text()  # OA105 on line 9


def run(*args: str) -> tuple[int, str]:
    outcome = CliRunner().invoke(audit, list(args))
    return outcome.exit_code, outcome.output


def _cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """In a subprocess with a deadline, so a scan that hangs fails the test instead."""
    return subprocess.run(
        [sys.executable, "-m", "valetkey", "audit", "--no-progress", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env={**os.environ, "NO_COLOR": "1"},
        timeout=120,
        check=False,
    )


def _errors(output: str) -> list[tuple[str, str]]:
    return [(e["file"], e["message"]) for e in json.loads(output)["errors"]]


def _ids(output: str) -> list[tuple[str, str, int]]:
    return [(f["file"], f["id"], f["line"]) for f in json.loads(output)["findings"]]


@pytest.fixture
def tree(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / "app.py").write_text(BAD)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_a_fifo_and_a_dev_zero_link_are_skipped_and_reported(tree: Path) -> None:
    os.mkfifo(tree / "pipe.py")
    (tree / "zero.py").symlink_to("/dev/zero")
    done = _cli(".", "--format", "json", cwd=tree)
    assert done.returncode == 1, done.stderr  # app.py's finding; the scan did not hang
    assert _ids(done.stdout) == [("app.py", "OA105", 9)]
    assert _errors(done.stdout) == [
        ("pipe.py", "cannot read: not a regular file (a FIFO)"),
        ("zero.py", "cannot read: not a regular file (a character device)"),
    ]


def test_link_loops_do_not_abort_the_scan(tree: Path) -> None:
    (tree / "loop.py").symlink_to("loop.py")
    (tree / "sub").mkdir()
    (tree / "sub" / "up").symlink_to("..", target_is_directory=True)  # a folder loop
    (tree / "sub" / "mod.py").write_text(BAD)
    code, output = run(".", "--format", "json")
    assert code == 1
    assert _ids(output) == [("app.py", "OA105", 9), ("sub/mod.py", "OA105", 9)]
    assert _errors(output) == [("loop.py", "cannot read: Too many levels of symbolic links")]


def test_a_link_to_a_regular_file_is_audited_under_its_own_name(tree: Path) -> None:
    (tree / "vendor").mkdir()
    (tree / "vendor" / "linked.py").symlink_to(tree / "app.py")
    code, output = run("vendor", "--format", "json")
    assert (code, _ids(output)) == (1, [("vendor/linked.py", "OA105", 9)])


def test_files_over_the_size_cap_are_skipped_and_reported(tree: Path) -> None:
    (tree / "big.py").write_text(BAD + "#" * 3000 + "\n")
    code, output = run(".", "--format", "json", "--max-file-size", "1K")
    assert code == 1
    assert _ids(output) == [("app.py", "OA105", 9)]
    size = (tree / "big.py").stat().st_size
    assert _errors(output) == [
        ("big.py", f"skipped: {size:,} bytes, over the 1,024-byte limit (--max-file-size)")
    ]
    code, output = run(".", "--format", "json")  # the default cap is 2 MiB
    assert _ids(output) == [("app.py", "OA105", 9), ("big.py", "OA105", 9)]


@pytest.mark.parametrize("value", ["0", "abc", "2G", "-5"])
def test_a_bad_size_cap_is_a_usage_error(tree: Path, value: str) -> None:
    code, output = run(".", "--max-file-size", value)
    assert code == 2
    assert output == (
        f"valetkey audit: --max-file-size {value!r}: give a size such as 500K, 2M or 1048576\n"
    )


@pytest.mark.parametrize(
    "source",
    [
        "x = " + "+".join(["1"] * 100_000) + "\n",  # RecursionError in the parser
        "x = a" + ".b" * 50_000 + "\n",
        "x = " + "not " * 50_000 + "a\n",  # MemoryError: the parser's stack
    ],
    ids=["sum", "attributes", "not"],
)
def test_deep_nesting_is_a_per_file_parse_error_not_an_internal_error(
    tree: Path, source: str
) -> None:
    (tree / "deep.py").write_text(source)
    code, output = run(".", "--format", "json")
    assert code == 1  # app.py's finding decides; a bad input file is not exit status 2
    assert _errors(output) == [("deep.py", "cannot parse: nested too deeply")]


def test_deep_nesting_in_text_output(tree: Path) -> None:
    (tree / "deep.py").write_text("x = " + "not " * 50_000 + "a\n")
    code, output = run("deep.py", "--no-progress")
    assert code == 0
    assert output.splitlines() == [
        "error deep.py: cannot parse: nested too deeply",
        "0 findings in 1 file(s) scanned, 1 file(s) could not be read or parsed.",
    ]


def test_dev_zero_named_directly_cannot_be_read_and_exits_2(tree: Path) -> None:
    done = _cli("/dev/zero", cwd=tree)
    assert done.returncode == 2
    assert done.stderr == (
        "valetkey audit: /dev/zero: cannot read: not a regular file (a character device)\n"
    )
    assert done.stdout == ""


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda p: os.mkfifo(p), "cannot read: not a regular file (a FIFO)"),
        (lambda p: p.symlink_to("/dev/null"), f"cannot read: {NOT_REGULAR} (a character device)"),
        (lambda p: p.symlink_to(p), "cannot read: Too many levels of symbolic links"),
        (lambda p: p.symlink_to("missing.py"), "a broken link"),
    ],
    ids=["fifo", "dev-null-link", "self-link", "broken-link"],
)  # fmt: skip
def test_a_non_regular_file_named_directly_exits_2(
    tree: Path, make: Callable[[Path], None], message: str
) -> None:
    make(tree / "odd.py")
    code, output = run("odd.py", "app.py")
    assert (code, output) == (2, f"valetkey audit: odd.py: {message}\n")

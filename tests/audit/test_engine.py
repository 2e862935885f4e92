"""The engine: parse errors, suppression comments, selection, configuration, parallel scan."""

from __future__ import annotations

from pathlib import Path

import pytest

from valetkey.audit.config import load_config
from valetkey.audit.engine import (
    PARALLEL_THRESHOLD,
    Selection,
    UsageError,
    audit_source,
    scan,
    suppressions,
    validate_ids,
)
from valetkey.audit.registry import AuditConfig

SECRET = (
    "from requests_oauthlib import OAuth2Session\n"
    'OAuth2Session("x").fetch_token("https://a.example/token", client_secret="abc123", '
    'code="c", timeout=5)\n'
)


def test_unparsable_file_is_an_error_and_the_scan_goes_on(write_tree) -> None:  # type: ignore[no-untyped-def]
    root = write_tree({"a_broken.py": "if True\n", "b_ok.py": SECRET})
    result = scan([root], jobs=1)
    assert [e.file.endswith("a_broken.py") for e in result.errors] == [True]
    assert [(f.id, f.line) for f in result.findings] == [("OA105", 2)]


@pytest.mark.parametrize(
    ("comment", "silenced"),
    [
        ("  # valetkey: ignore[OA105]", True),
        ("  # valetkey: ignore[OA101, OA105]", True),
        ("  # valetkey: ignore", True),
        ("  # valetkey: ignore[OA109]", False),
        ("  # an ordinary comment", False),
    ],
)
def test_inline_suppression(comment: str, silenced: bool) -> None:
    lines = SECRET.splitlines()
    source = lines[0] + "\n" + lines[1] + comment + "\n"
    report = audit_source(source)
    assert (report.findings == ()) is silenced


def test_suppression_comments_are_read_from_comments_only() -> None:
    source = 'x = "# valetkey: ignore[OA105]"\ny = 1  # valetkey: ignore[oa105]\n'
    assert suppressions(source) == {2: frozenset({"OA105"})}


def test_select_and_ignore() -> None:
    assert audit_source(SECRET, selection=Selection(select=frozenset({"OA10"}))).findings
    assert not audit_source(SECRET, selection=Selection(select=frozenset({"OA11"}))).findings
    assert not audit_source(SECRET, selection=Selection(ignore=frozenset({"OA105"}))).findings


def test_unknown_ids_are_a_usage_error() -> None:
    assert validate_ids(["oa105", " OA11"]) == frozenset({"OA105", "OA11"})
    with pytest.raises(UsageError, match="unknown check id OA999"):
        validate_ids(["OA999"])


def test_pyproject_allowed_scopes_and_exclude(write_tree) -> None:  # type: ignore[no-untyped-def]
    root = write_tree(
        {
            "pyproject.toml": '[tool.valetkey]\nallowed-scopes = ["repo", "read:user"]\n'
            'exclude = ["vendor"]\n',
            "app.py": "from requests_oauthlib import OAuth2Session\n"
            'S = OAuth2Session("x", scope=["repo", "gist"], pkce="S256")\n',
            "vendor/lib.py": SECRET,
        }
    )
    config = load_config(root / "pyproject.toml")
    assert config == AuditConfig(frozenset({"repo", "read:user"}), ("vendor",))
    report = audit_source((root / "app.py").read_text(), config=config)
    assert [(f.id, f.message) for f in report.findings] == [
        ("OA108", "over-broad scope requested: gist")
    ]


def test_exclude_applies_inside_folders_not_to_paths_named(
    write_tree, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    from valetkey.audit.engine import discover

    root = write_tree({"app.py": "x = 1\n", "tests/fixtures/bad.py": SECRET})
    monkeypatch.chdir(root)
    config = AuditConfig(exclude=("tests",))
    assert discover([Path(".")], config) == [Path("app.py")]
    named = Path("tests/fixtures/bad.py")
    assert discover([named], config) == [named]
    assert discover([Path("tests/fixtures")], config) == [named]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[tool.valetkey]\nallowed-scope = []\n", "unknown key [tool.valetkey] 'allowed-scope'"),
        ("[tool.valetkey]\nexclude = 'x'\n", "exclude = 'x' must be a list of strings"),
        ("[tool.valetkey\n", "cannot read it as TOML"),
    ],
)
def test_bad_configuration_names_the_key(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "pyproject.toml"
    path.write_text(text)
    with pytest.raises(UsageError, match=message.replace("[", r"\[").replace("]", r"\]")):
        load_config(path)


@pytest.mark.slow
def test_parallel_scan_matches_serial(write_tree) -> None:  # type: ignore[no-untyped-def]
    files = {
        f"pkg/m{i:03}.py": SECRET if i % 7 == 0 else "x = 1\n"
        for i in range(PARALLEL_THRESHOLD + 10)
    }
    root = write_tree(files)
    ticks: list[int] = []
    parallel = scan([root], jobs=2, progress=ticks.append)
    serial = scan([root], jobs=1)
    assert parallel == serial
    assert len(ticks) == len(files)
    assert len(parallel.findings) == len([i for i in range(len(files)) if i % 7 == 0])


def test_a_bug_in_a_check_is_reported_per_file_and_the_scan_goes_on(
    write_tree,  # type: ignore[no-untyped-def]
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from valetkey.audit import engine

    def broken(*_args: object) -> engine.FileReport:
        raise KeyError("boom")

    root = write_tree({"a.py": "x = 1\n"})
    monkeypatch.setattr(engine, "audit_source", broken)
    result = scan([root], jobs=1)
    assert [e.internal for e in result.errors] == [True]
    assert "internal error (KeyError" in result.errors[0].message

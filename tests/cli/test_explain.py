"""`valetkey explain ID` prints catalogue entries for every family."""

from __future__ import annotations

import json
import re
import subprocess
import sys

import pytest
from click.testing import CliRunner

from valetkey.cli import cli


def _run(*args: str) -> tuple[int, str, str]:
    outcome = CliRunner().invoke(cli, ["explain", *args])
    return outcome.exit_code, outcome.stdout, outcome.stderr


@pytest.mark.parametrize(
    ("written", "first", "title", "clause"),
    [
        (
            "AS-23",
            "AS-23 client-auth-required  (severity: high; RFC 6749 §2.3.1, §3.2.1)",
            "Confidential clients must authenticate, and not in the query string.",
            "https://www.rfc-editor.org/rfc/rfc6749#section-2.3.1",
        ),
        (
            "lc-14",
            "LC-14 id-token-battery  (severity: high; OIDC Core §3.1.3.7; RFC 8725 §3.1, §3.2)",
            "Forged ID tokens do not sign anyone in.",
            "https://www.rfc-editor.org/rfc/rfc8725#section-3.2",
        ),
        (
            "OA103",
            "OA103 state-unverified  (severity: high; RFC 6749 §10.12; RFC 9700 §4.7.1)",
            "The callback uses the code without rejecting a state that differs from the session's.",
            "https://www.rfc-editor.org/rfc/rfc9700#section-4.7.1",
        ),
    ],
)
def test_explain_prints_the_entry(written: str, first: str, title: str, clause: str) -> None:
    status, out, err = _run(written)
    assert (status, err) == (0, "")
    lines = out.splitlines()
    assert lines[:2] == [first, title]
    assert lines[3].startswith("What: ")
    assert "\nBad:\n    " in out
    assert "\nGood:\n    " in out
    assert f"  {clause}\n" in out
    assert lines[-1] == f"Docs: docs/checks.md#{first.split()[0].lower()}"


def test_explain_oa_adds_what_the_auditor_flags_like_audit_explain() -> None:
    from valetkey.cli.audit import audit

    _, out, _ = _run("oa103")
    assert "\nFlags: a callback (a function that reads the `code` parameter" in out
    assert out.index("What: ") < out.index("Flags: ") < out.index("Why: ")
    assert "Checked by: valetkey audit\n" in out
    assert CliRunner().invoke(audit, ["--explain", "OA103"]).output == out


def test_unknown_id_is_one_line_with_the_closest_ids_and_exit_2() -> None:
    status, out, err = _run("as-37")
    assert (status, out) == (2, "")
    assert err == (
        "Error: unknown check id 'as-37'; closest: AS-36, AS-38, AS-35 "
        "(see `valetkey explain --list`)\n"
    )


def test_unknown_id_in_a_real_process_has_no_traceback() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "valetkey", "explain", "ZZ-1"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 2
    assert done.stdout == ""
    assert done.stderr == "Error: unknown check id 'ZZ-1' (see `valetkey explain --list`)\n"


def test_no_id_is_a_usage_error() -> None:
    status, _, err = _run()
    assert status == 2
    assert "give a check id (e.g. AS-23), or --list" in err


def test_list_shows_every_id_with_its_title() -> None:
    status, out, _ = _run("--list")
    lines = out.splitlines()
    assert status == 0
    assert len(lines) == 91
    assert lines[0] == (
        "AS-01  medium The discovery document is served and names the issuer exactly."
    )
    assert "LC-14  high   Forged ID tokens do not sign anyone in." in lines
    assert lines[-1].startswith("MS-10  medium ")
    assert not any(line.endswith(" (planned)") for line in lines)


def test_list_one_family() -> None:
    status, out, _ = _run("--list", "--family", "oa")
    assert status == 0
    assert [line.split()[0] for line in out.splitlines()] == [f"OA{n}" for n in range(101, 122)]


def test_family_implies_list_and_does_not_go_with_an_id() -> None:
    status, out, _ = _run("--family", "MS")
    assert status == 0
    assert len(out.splitlines()) == 10
    status, _, err = _run("AS-01", "--family", "AS")
    assert status == 2
    assert "--family goes with --list, not with an id" in err


def test_json_format() -> None:
    status, out, _ = _run("as-08", "--format", "json")
    data = json.loads(out)
    assert status == 0
    assert data["id"] == "AS-08"
    assert data["family"] == "AS"
    assert data["severity"] == "high"
    assert data["clause"] == "RFC 6749 §3.1.2.3; RFC 9700 §4.1.3"
    assert data["doc"] == "docs/checks.md#as-08"
    assert data["status"] == "implemented"
    assert data["bad"]["language"] == "http"


def test_markdown_format_is_the_reference_section() -> None:
    status, out, _ = _run("LC-02", "--format", "markdown")
    assert status == 0
    assert out.startswith("# LC-02\n\n**A callback with a code and no state is refused.**\n")
    assert "\n```http\nGET /callback?code=Splx...\n" in out


def test_mcp_ids_name_the_mcp_probe() -> None:
    _, out, _ = _run("MS-03")
    assert "\nChecked by: valetkey probe mcp-server\n" in out
    _, out, _ = _run("MS-03", "--format", "json")
    assert json.loads(out)["status"] == "implemented"


def test_explain_is_in_the_command_list() -> None:
    out = CliRunner().invoke(cli, ["--help"]).output
    # the help column starts after the longest command's name (`resources`, today)
    assert re.search(r"\n  explain +Explain a check id \(AS-23, LC-14, OA103, \.\.\.\)", out)

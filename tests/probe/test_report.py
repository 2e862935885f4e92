"""Probe reports link every id to its catalogue entry."""

from __future__ import annotations

import json

from valetkey.probe.report import Run, failed, not_applicable, passed, to_json, to_text


def _run() -> Run:
    return Run(
        "https://auth.example",
        [
            passed("AS-03", "S256 only; plain refused"),
            failed("AS-15", "the code was redeemed twice"),
            not_applicable("LC-04", "needs an attacker account"),
        ],
        seconds=1.25,
    )


def test_text_names_the_explain_command_under_each_failure() -> None:
    assert to_text(_run()).splitlines() == [
        "valetkey probe: https://auth.example",
        "",
        "PASS  AS-03  S256 only; plain refused",
        "FAIL  AS-15  the code was redeemed twice",
        "        explain:  valetkey explain AS-15",
        "n/a   LC-04  needs an attacker account",
        "",
        "1 passed, 1 failed, 1 not applicable, 0 broke; 1.2 s",
    ]


def test_json_gives_each_result_its_reference_anchor() -> None:
    results = json.loads(to_json(_run()))["results"]
    assert [(r["id"], r["doc"]) for r in results] == [
        ("AS-03", "docs/checks.md#as-03"),
        ("AS-15", "docs/checks.md#as-15"),
        ("LC-04", "docs/checks.md#lc-04"),
    ]

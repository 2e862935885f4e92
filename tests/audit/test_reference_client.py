"""The project's own photo-printer app audits clean; its no-state-check lab copy does not."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _findings(*paths: str) -> list[tuple[str, int, str]]:
    result = subprocess.run(
        [sys.executable, "-m", "valetkey", "audit", "--format", "json", "--no-progress", *paths],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
        check=False,
    )
    report = json.loads(result.stdout)
    return [(f["file"], f["line"], f["id"]) for f in report["findings"]]


def test_reference_client_and_sandbox_audit_clean_except_the_lab_copy() -> None:
    findings = _findings("src/valetkey/client", "src/valetkey/provider")
    lab = "src/valetkey/client/lab_no_state_check.py"
    line = next(
        i
        for i, text in enumerate((ROOT / lab).read_text().splitlines(), 1)
        if text.strip().startswith("def callback(")
    )
    assert findings == [(lab, line, "OA103")]

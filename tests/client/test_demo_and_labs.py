"""`valetkey demo` and the labs, run as a user runs them."""

from __future__ import annotations

import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from valetkey.client.labs import run_login_csrf, run_redirect_theft

pytestmark = pytest.mark.slow


def vk(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "valetkey", *args],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=cwd,
        check=False,
        env={"PATH": "/usr/bin:/bin", "COLUMNS": "200"},
    )


@pytest.mark.parametrize("variant", ["steps", "authlib"])
def test_demo_walks_the_five_steps(tmp_path: Path, variant: str) -> None:
    result = vk("demo", "--client", variant, "--out", str(tmp_path / "out"), cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    out = result.stdout
    for step in range(1, 6):
        assert f"Step {step}  " in out
    assert out.index("Step 1") < out.index("Step 2") < out.index("Step 3") < out.index("Step 4")
    assert "password=(hidden)" in out
    assert (
        "Password confinement: the password was sent 1 time(s), only from the browser to "
        "the authorization server"
    ) in out
    assert "the client received it 0 time(s) and sent it 0 time(s)" in out
    svg = next((tmp_path / "out").glob("flow-*.svg"))
    assert f"Sequence diagram: {svg.relative_to(tmp_path)}" in out or str(svg) in out
    root = ET.parse(svg).getroot()  # noqa: S314 (our own file)
    ns = "{http://www.w3.org/2000/svg}"
    password_arrows = [g for g in root.iter(f"{ns}g") if g.get("data-password") == "true"]
    assert len(password_arrows) == 1
    assert "2. login: username and password" in "".join(password_arrows[0].itertext())
    steps = [int(g.get("data-step", "0")) for g in root.iter(f"{ns}g") if g.get("data-step")]
    assert steps == [1, 2, 2, 3, 4, 4, 5]


def test_demo_fails_when_the_client_asks_for_the_password(tmp_path: Path) -> None:
    result = vk("demo", "--lab", "ask-password", "--out", str(tmp_path / "out"), cwd=tmp_path)
    assert result.returncode == 1
    assert (
        "Password confinement: FAILED: the password left the authorization server's page"
        in result.stdout
    )
    assert "the client received it 1 time(s)" in result.stdout
    assert "Error: the walkthrough failed (password confinement)" in result.stderr


def test_login_csrf_lab() -> None:
    vulnerable, secure = run_login_csrf()
    assert (vulnerable.broken, secure.broken) == (True, False)
    assert vulnerable.detail == "the victim's browser is signed in to Photo Printer as Bob Marley"
    assert secure.detail.startswith("the app refused the callback")


def test_redirect_theft_lab() -> None:
    loose, strict = run_redirect_theft()
    assert loose.detail == "the attacker received alice's code and is signed in as Alice Liddell"
    assert strict.broken is False
    assert (
        strict.detail == "the provider refused the crafted redirect_uri; the attacker got nothing"
    )


@pytest.mark.parametrize("name", ["login-csrf", "redirect-theft"])
def test_lab_commands_exit_zero(tmp_path: Path, name: str) -> None:
    result = vk("lab", name, cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "BROKEN" in result.stdout
    assert "HELD" in result.stdout
    assert result.stdout.rstrip().endswith(
        "the vulnerable setup was broken and the secure one held."
    )

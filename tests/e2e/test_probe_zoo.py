"""`valetkey probe client` on the zoo (tests/probe_targets/): 26 apps in Flask, FastAPI,
Starlette, Django and aiohttp, written in different styles, each with its labelled flaws.
Every app fails exactly its labelled checks, is n/a exactly on its NOT_JUDGED ones (with the
reason) and has no error; the secure ones pass everything. `bench/probe_zoo.py` prints the
per-check table and the time per app."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.probe_targets import zoo

ALL_LC = {f"LC-{n:02d}" for n in range(1, 21)}


@pytest.fixture(scope="module")
def sandboxes(tmp_path_factory: pytest.TempPathFactory) -> Iterator[zoo.Sandboxes]:
    running = zoo.start_sandboxes(tmp_path_factory.mktemp("zoo"))
    yield running
    running.stop()


@pytest.mark.slow
@pytest.mark.parametrize("name", zoo.APPS)
def test_zoo_app_fails_exactly_its_labelled_checks(sandboxes: zoo.Sandboxes, name: str) -> None:
    app = zoo.load(name)
    run = zoo.probe(app, sandboxes)
    assert run.notes == []
    assert {r.id for r in run.results} == ALL_LC
    outcome = {r.id: (r.status, r.reason) for r in run.results if r.status != "pass"}
    assert {k for k, (status, _) in outcome.items() if status == "fail"} == app.fails, outcome
    assert {k for k, (status, _) in outcome.items() if status == "n/a"} == app.not_judged
    assert {k: v for k, v in outcome.items() if v[0] not in ("fail", "n/a")} == {}
    assert all(reason for _, reason in outcome.values())


def test_the_zoo_covers_what_issue_12_asks() -> None:
    """At least 24 apps, five frameworks, four secure apps, two legacy implicit form_post
    apps, every LC check failed by at least two apps."""
    apps = [zoo.load(name) for name in zoo.APPS]
    assert len(apps) >= 24
    assert {a.framework for a in apps} == {"flask", "fastapi", "starlette", "django", "aiohttp"}
    assert sum(1 for a in apps if not a.fails) >= 4
    failing = {lc: sum(1 for a in apps if lc in a.fails) for lc in sorted(ALL_LC)}
    assert {lc for lc, count in failing.items() if count < 2} == set()
    implicit = [a for a in apps if a.sandbox == "implicit"]
    assert len({a.framework for a in implicit}) >= 2

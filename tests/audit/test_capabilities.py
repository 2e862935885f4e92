"""The engine capabilities issue 11 asks for, each shown by bad/good fixture pairs in at
least two frameworks. The fixtures themselves are asserted line by line in
test_fixtures.py; this table says which fixture shows which capability."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from .conftest import FIXTURES, audit_text, expected_pairs, found_pairs

CAPABILITIES: dict[str, list[str]] = {
    "mapping spreads, update, copy, setdefault": [
        "oa101/bad_cap_spread_flask.py",
        "oa101/good_cap_spread_flask.py",
        "oa101/bad_cap_spread_sanic.py",
        "oa101/good_cap_spread_sanic.py",
    ],
    "a session value stored by one route and read by another": [
        "oa115/bad_cap_session_aiohttp.py",
        "oa115/good_cap_session_aiohttp.py",
        "oa115/bad_cap_session_pyramid.py",
        "oa115/good_cap_session_pyramid.py",
    ],
    "helpers forwarding **kwargs, functools.partial, record classes": [
        "oa103/bad_cap_helpers_flask.py",
        "oa103/good_cap_helpers_flask.py",
        "oa111/bad_cap_partial_pyramid.py",
        "oa111/good_cap_partial_pyramid.py",
        "oa105/bad_cap_records_quart.py",
        "oa105/good_cap_records_quart.py",
    ],
    "FastAPI Depends, class-based views, async code": [
        "oa117/bad_cap_depends_fastapi.py",
        "oa117/good_cap_depends_fastapi.py",
        "oa117/bad_cap_cbv_django.py",
        "oa117/good_cap_cbv_django.py",
    ],
    "HTTP clients as configured objects": [
        "oa111/bad_configured_clients.py",
        "oa111/good_configured_clients.py",
        "oa110/bad_cap_client_litestar.py",
        "oa110/good_cap_client_litestar.py",
    ],
    "which calls are OAuth traffic": [
        "oa110/bad_cap_traffic_falcon.py",
        "oa110/good_cap_traffic_falcon.py",
        "oa110/bad_cap_client_litestar.py",
        "oa110/good_verify_false_not_oauth.py",
    ],
    "comparison idioms (sentinels, empty checks, exceptions, fallbacks)": [
        "oa103/bad_cap_comparisons_falcon.py",
        "oa103/good_cap_comparisons_tornado.py",
        "oa103/good_cap_comparisons_bottle.py",
        "oa103/bad_only_if_present_fastapi.py",
    ],
    "state in a signed cookie or a store keyed by the browser": [
        "oa103/good_cap_comparisons_tornado.py",
        "oa103/good_cap_server_store_aiohttp.py",
        "oa103/bad_cap_global_store_aiohttp.py",
        "oa103/bad_cap_signed_only_litestar.py",
    ],
}
FRAMEWORKS = frozenset(
    {
        "flask",
        "django",
        "rest_framework",
        "fastapi",
        "starlette",
        "quart",
        "aiohttp",
        "tornado",
        "sanic",
        "litestar",
        "falcon",
        "pyramid",
        "bottle",
    }
)


def _frameworks(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module.split(".")[0])
    return found & FRAMEWORKS


@pytest.mark.parametrize("capability", sorted(CAPABILITIES))
def test_capability_has_bad_and_good_fixtures_in_two_frameworks(capability: str) -> None:
    paths = [FIXTURES / name for name in CAPABILITIES[capability]]
    bad = [p for p in paths if p.name.startswith("bad_")]
    good = [p for p in paths if p.name.startswith("good_")]
    assert bad
    assert good
    assert len(set().union(*(_frameworks(p) for p in paths))) >= 2
    for path in bad:  # each bad one reports exactly its expected (id, line) pairs
        source = path.read_text(encoding="utf-8")
        assert expected_pairs(source)
        assert found_pairs(audit_text(source, path.name)) == expected_pairs(source)
    for path in good:
        assert found_pairs(audit_text(path.read_text(encoding="utf-8"), path.name)) == set()

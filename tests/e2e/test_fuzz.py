"""Fuzzing: schemathesis against the admin API's OpenAPI document, and hypothesis-made
requests against the OAuth endpoints. Nothing may answer 5xx or hang."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.support.sandbox import Sandbox, start_sandbox

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def fuzz_target(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sandbox]:
    running = start_sandbox(tmp_path_factory.mktemp("fuzz"))
    yield running
    status = Path(f"/proc/{running.proc.pid}/status").read_text()
    rss_mib = int(status.split("VmRSS:")[1].split()[0]) / 1024
    running.stop()
    assert "Traceback" not in running.output()
    assert rss_mib < 200, f"the server grew to {rss_mib:.0f} MiB under fuzzing"


ADMIN_CASES = {"count": 0}


def test_admin_api_never_fails_with_5xx(fuzz_target: Sandbox) -> None:
    """schemathesis generates requests for every operation of /admin/openapi.json."""
    schema = schemathesis.openapi.from_url(fuzz_target.url + "/admin/openapi.json")
    headers = {"authorization": f"Bearer {fuzz_target.admin_token}"}
    for result in schema.get_all_operations():
        operation = result.ok()

        @given(case=operation.as_strategy())
        @settings(
            max_examples=40, deadline=None, database=None, suppress_health_check=list(HealthCheck)
        )
        def call(case: schemathesis.Case) -> None:
            response = case.call(base_url=fuzz_target.url, headers=headers, timeout=10)
            ADMIN_CASES["count"] += 1
            assert response.status_code < 500, (case.method, case.path, response.text[:200])

        call()
    assert ADMIN_CASES["count"] >= 200


TEXT = st.text(alphabet=st.characters(codec="utf-8"), max_size=300)
FIELDS = st.sampled_from(
    [
        "grant_type",
        "code",
        "redirect_uri",
        "code_verifier",
        "client_id",
        "client_secret",
        "refresh_token",
        "scope",
        "token",
        "state",
        "response_type",
        "code_challenge",
        "code_challenge_method",
        "nonce",
        "prompt",
        "max_age",
        "username",
        "password",
        "csrf",
        "request",
        "decision",
        "x",
    ]
)
FORMS = st.lists(st.tuples(FIELDS, TEXT), max_size=12)
PATHS = st.sampled_from(
    [
        "/token",
        "/authorize",
        "/revoke",
        "/introspect",
        "/userinfo",
        "/login",
        "/consent",
        "/logout",
        "/account/revoke",
        "/api/photos",
        "/login/oauth/access_token",
        "/probe/forge",
    ]
)
HEADERS = st.dictionaries(
    st.sampled_from(["authorization", "content-type", "cookie", "dpop", "accept", "origin"]),
    st.text(alphabet=st.characters(min_codepoint=33, max_codepoint=126), max_size=200),
    max_size=4,
)


@given(
    method=st.sampled_from(["GET", "POST"]),
    path=PATHS,
    form=FORMS,
    query=FORMS,
    headers=HEADERS,
    raw=st.binary(max_size=2000),
    use_raw=st.booleans(),
)
@settings(
    max_examples=400,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
def test_oauth_endpoints_never_fail_with_5xx(  # 400 examples of method, path, form, headers
    fuzz_target: Sandbox,
    method: str,
    path: str,
    form: list[tuple[str, str]],
    query: list[tuple[str, str]],
    headers: dict[str, str],
    raw: bytes,
    use_raw: bool,
) -> None:
    content = raw if use_raw else str(httpx.QueryParams(form)).encode()
    sent = {"content-type": "application/x-www-form-urlencoded", **headers}
    response = httpx.request(
        method,
        fuzz_target.url + path,
        params=query,
        content=content if method == "POST" else None,
        headers=sent,
        timeout=10,
    )
    assert response.status_code < 500, (response.status_code, response.text[:300])
    assert "Traceback" not in response.text

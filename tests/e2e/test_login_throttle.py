"""Login throttling (issue 15, low): backoff per user and per client address after wrong
passwords, and a bounded queue of password checks that answers 429 with Retry-After."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator

import httpx
import pytest

from tests.support.sandbox import Sandbox, hidden, start_sandbox
from valetkey.provider.login_throttle import FREE_FAILURES


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sandbox]:
    running = start_sandbox(tmp_path_factory.mktemp("throttle"))
    yield running
    running.stop()
    assert "Traceback" not in running.output()


def _client(server: Sandbox, address: str = "127.0.0.1") -> httpx.Client:
    transport = httpx.HTTPTransport(local_address=address)
    return httpx.Client(base_url=server.url, transport=transport, timeout=60)


def _form(client: httpx.Client | httpx.AsyncClient, page: httpx.Response) -> dict[str, str]:
    return {"csrf": hidden(page.text, "csrf"), "request": ""}


def _login(client: httpx.Client, username: str, password: str) -> httpx.Response:
    form = _form(client, client.get("/login"))
    return client.post("/login", data={**form, "username": username, "password": password})


def test_wrong_passwords_for_one_user_back_off(server: Sandbox) -> None:
    with _client(server, "127.0.0.3") as client:
        for _ in range(FREE_FAILURES):
            assert _login(client, "alice", "wrong-password").status_code == 401
        refused = _login(client, "alice", "wrong-password")
        assert refused.status_code == 429
        assert refused.headers["retry-after"] == "1"
        assert "too many wrong passwords; wait; retry in 1 s." in refused.text
    with _client(server, "127.0.0.4") as other:  # the user is throttled from anywhere
        assert _login(other, "alice", server.password("alice")).status_code == 429
        time.sleep(1.2)
        assert _login(other, "alice", server.password("alice")).status_code == 303


@pytest.mark.slow
def test_800_wrong_passwords_in_flight_barely_delay_a_real_login(server: Sandbox) -> None:
    with _client(server) as client:
        form = _form(client, client.get("/login"))
        cookies = dict(client.cookies)

    async def attack() -> list[int]:
        limits = httpx.Limits(max_connections=800, max_keepalive_connections=0)
        async with httpx.AsyncClient(
            base_url=server.url, cookies=cookies, limits=limits, timeout=120
        ) as attacker:
            posts = [
                attacker.post("/login", data={**form, "username": f"u{i}", "password": "x"})
                for i in range(800)
            ]
            return [r.status_code for r in await asyncio.gather(*posts)]

    statuses: list[int] = []
    started = asyncio.get_event_loop_policy().new_event_loop()
    with _client(server, "127.0.0.2") as real:
        form_real = _form(real, real.get("/login"))
        task = started.run_in_executor(None, lambda: statuses.extend(asyncio.run(attack())))
        time.sleep(0.5)  # the attack is in flight
        begun = time.perf_counter()
        answer = real.post(
            "/login",
            data={**form_real, "username": "bob", "password": server.password("bob")},
        )
        took = time.perf_counter() - begun
        started.run_until_complete(task)
    started.close()
    assert answer.status_code == 303
    assert took < 3.0  # generous: it was 25 s before the bound and the backoff
    assert set(statuses) <= {401, 429}, set(statuses)
    assert statuses.count(429) > 700  # refused at once, without an argon2 run

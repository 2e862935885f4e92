"""A code's or a token's user comes in the same statement as the code or the token
(store/queries.py `USER_ALONG`): inside a unit of work `user_by_id` answers from it until
the unit writes anything; outside one, or after a write, it reads the row again."""

from __future__ import annotations

import time

import pytest

from valetkey.provider.store.queries import Store
from valetkey.provider.store.records import AuthRequest, Code, Token, User


def _user_with_code_and_token(store: Store) -> tuple[User, Code, Token]:
    now = time.time()
    user = store.add_user("dana", "x", {"name": "Dana"}, now)
    pending = AuthRequest(
        "q1", "b", "c1", "http://127.0.0.1/cb", "openid", None, None, None, None, None, None,
        "f1", now + 60,
    )  # fmt: skip
    code = Code(
        "h1", "c1", user.id, "http://127.0.0.1/cb", "openid", None, None, None, now, "f1",
        now + 60, None, None,
    )  # fmt: skip
    store.save_auth_request(pending)
    assert store.finish_auth_request("q1", code)
    token = Token("t1", "access", None, "c1", user.id, "openid", now, now + 60, None, None)
    store.issue(None, [token])
    return user, code, token


@pytest.mark.postgres
def test_the_user_of_a_code_or_token_costs_no_second_statement(
    pg_store: tuple[Store, list[str]],
) -> None:
    store, sent = pg_store
    user, code, token = _user_with_code_and_token(store)
    sent.clear()
    with store.transaction():
        assert store.code(code.code_hash) == code
        assert store.user_by_id(user.id) == user
    with store.transaction():
        found = store.token(token.id)
        assert found == (token, None)
        assert store.user_by_id(user.id) == user
    assert sent == ["SELECT", "SELECT"]  # one statement for each pair
    assert store.user_by_id(user.id) == user  # outside a unit: read again
    assert sent == ["SELECT", "SELECT", "SELECT"]


def test_a_write_in_the_unit_makes_user_by_id_read_again(store: Store) -> None:
    user, code, _ = _user_with_code_and_token(store)
    with store.transaction():
        assert store.code(code.code_hash) == code
        store.set_claims(user.id, {"name": "Dana Smith"})
        again = store.user_by_id(user.id)
    assert again is not None
    assert again.claims == {"name": "Dana Smith"}


def test_a_user_not_read_along_is_read_from_its_row(store: Store) -> None:
    user, code, _ = _user_with_code_and_token(store)
    other = store.add_user("erin", "x", {}, time.time())
    with store.transaction():
        assert store.code("no-such-code") is None
        assert store.code(code.code_hash) == code
        assert store.user_by_id(other.id) == other
        assert store.user_by_id(user.id + other.id + 1) is None

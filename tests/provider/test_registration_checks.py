"""The registration, metadata-document and device-grant checks on contexts built by hand:
for each, one case that must trigger (with its error) and one that must stay silent."""

from __future__ import annotations

import json
from typing import Any

import pytest

from valetkey.oauth.client_metadata import DEVICE_CODE, client_metadata
from valetkey.provider.checks import Check, CheckResult, RecordPoll, TokenContext, rfc7591, rfc8628
from valetkey.provider.checks import client_id_metadata_document as cimd
from valetkey.provider.client_documents import Fetched
from valetkey.provider.errors import (
    AccessDenied,
    AuthorizationPending,
    ExpiredToken,
    InvalidClientMetadata,
    InvalidGrant,
    InvalidRedirectUri,
    OAuthError,
    SlowDown,
)
from valetkey.provider.http import Params, Request
from valetkey.provider.store.records import Client, DeviceCode

CALLBACK = "http://127.0.0.1:8601/callback"
URL = "http://127.0.0.1:9000/client.json"


def _registration(
    body: Any, content_type: str = "application/json", registered: int = 0
) -> rfc7591.RegistrationContext:
    raw = json.dumps(body).encode()
    headers = {"content-type": content_type}
    request = Request("POST", "/register", Params(), Params(), headers, {}, body=raw)
    ctx = rfc7591.RegistrationContext(request, "dyn-test", registered, cap=10)
    ctx.data = body if isinstance(body, dict) else {}
    return ctx


def _run(item: Check[Any], ctx: object) -> None:
    item.run(ctx)


def _refused(item: Check[Any], ctx: object, kind: type[OAuthError]) -> str:
    with pytest.raises(kind) as caught:
        item.run(ctx)
    return caught.value.description


def test_registration_is_json() -> None:
    _run(rfc7591.registration_is_json, _registration({"redirect_uris": [CALLBACK]}))
    form = _registration({}, content_type="application/x-www-form-urlencoded")
    assert _refused(rfc7591.registration_is_json, form, InvalidClientMetadata) == (
        "send the client metadata as JSON (application/json)"
    )
    array = _registration([1])
    assert "must be a JSON object" in _refused(
        rfc7591.registration_is_json, array, InvalidClientMetadata
    )


def test_metadata_types() -> None:
    _run(rfc7591.metadata_types, _registration({"redirect_uris": [CALLBACK], "x": {"y": 1}}))
    wrong = _registration({"client_name": ["not", "a", "string"]})
    assert _refused(rfc7591.metadata_types, wrong, InvalidClientMetadata) == (
        "client_name is a string of 1 to 2000 characters"
    )


def test_metadata_valid() -> None:
    ctx = _registration({"redirect_uris": [CALLBACK], "token_endpoint_auth_method": "none"})
    _run(rfc7591.metadata_valid, ctx)
    assert ctx.metadata is not None
    assert ctx.metadata.public
    assert ctx.metadata.application_type == "web"
    bad = _registration({"redirect_uris": ["https://app.example/cb#frag"]})
    assert "must not contain a fragment" in _refused(
        rfc7591.metadata_valid, bad, InvalidRedirectUri
    )


def test_no_implicit_registration() -> None:
    ctx = _registration({"redirect_uris": [CALLBACK]})
    rfc7591.metadata_valid.run(ctx)
    _run(rfc7591.no_implicit_registration, ctx)
    implicit = _registration(
        {"redirect_uris": [CALLBACK], "grant_types": ["implicit"], "response_types": ["token"]}
    )
    rfc7591.metadata_valid.run(implicit)
    assert "implicit is not offered" in _refused(
        rfc7591.no_implicit_registration, implicit, InvalidClientMetadata
    )


def test_within_registration_cap() -> None:
    _run(rfc7591.within_registration_cap, _registration({}, registered=9))
    full = _registration({}, registered=10)
    assert "its limit" in _refused(rfc7591.within_registration_cap, full, AccessDenied)


def _document(body: Any, content_type: str = "application/json") -> cimd.DocumentContext:
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    return cimd.DocumentContext(URL, Fetched(URL, 200, content_type, raw))


GOOD = {"client_id": URL, "redirect_uris": [CALLBACK], "client_name": "Doc client"}


def test_the_document_table_passes_a_good_document() -> None:
    ctx = _document(GOOD)
    results: list[CheckResult] = []
    cimd.DOCUMENT_CHECKS.run(ctx, results)
    assert [r.passed for r in results] == [True] * 6
    assert ctx.metadata is not None
    assert ctx.metadata.client_id == URL
    assert ctx.metadata.token_endpoint_auth_method == "none"


def test_document_url_valid() -> None:
    _run(cimd.document_url_valid, _document(GOOD))
    bad = cimd.DocumentContext("https://app.example", Fetched("https://app.example"))
    assert "must have a path" in _refused(cimd.document_url_valid, bad, InvalidClientMetadata)


def test_document_fetched() -> None:
    _run(cimd.document_fetched, _document(GOOD))
    failed = cimd.DocumentContext(URL, Fetched(URL, problem="the document did not arrive"))
    assert _refused(cimd.document_fetched, failed, InvalidClientMetadata) == (
        "the document did not arrive"
    )
    missing = cimd.DocumentContext(URL, Fetched(URL, 404, "application/json", b"{}"))
    assert "answered 404" in _refused(cimd.document_fetched, missing, InvalidClientMetadata)


def test_document_is_json() -> None:
    _run(cimd.document_is_json, _document(GOOD, "application/client-metadata+json"))
    text = _document(GOOD, "text/plain")
    assert "not text/plain" in _refused(cimd.document_is_json, text, InvalidClientMetadata)


def test_document_names_itself() -> None:
    ctx = _document(GOOD)
    cimd.document_is_json.run(ctx)
    _run(cimd.document_names_itself, ctx)
    other = _document({**GOOD, "client_id": URL + "/"})
    cimd.document_is_json.run(other)
    assert "must equal its URL exactly" in _refused(
        cimd.document_names_itself, other, InvalidClientMetadata
    )


@pytest.mark.parametrize(
    ("extra", "says"),
    [
        ({"token_endpoint_auth_method": "client_secret_basic"}, "needs a shared secret"),
        ({"token_endpoint_auth_method": "client_secret_jwt"}, "needs a shared secret"),
        ({"client_secret": "x" * 32}, "must not hold a client_secret"),
        ({"token_endpoint_auth_method": "private_key_jwt"}, "private_key_jwt is not"),
    ],
)
def test_document_holds_no_secret(extra: dict[str, str], says: str) -> None:
    ctx = _document(GOOD)
    cimd.document_is_json.run(ctx)
    _run(cimd.document_holds_no_secret, ctx)
    bad = _document({**GOOD, **extra})
    cimd.document_is_json.run(bad)
    assert says in _refused(cimd.document_holds_no_secret, bad, InvalidClientMetadata)


def test_document_metadata_valid() -> None:
    ctx = _document({"client_id": URL, "redirect_uris": [CALLBACK]})
    cimd.document_is_json.run(ctx)
    _run(cimd.document_metadata_valid, ctx)
    assert ctx.metadata is not None
    assert ctx.metadata.name == "127.0.0.1"  # no client_name: the host
    bad = _document({**GOOD, "redirect_uris": ["data:text/html,x"]})
    cimd.document_is_json.run(bad)
    assert "not data:" in _refused(cimd.document_metadata_valid, bad, InvalidRedirectUri)


# -- RFC 8628: the device_code grant ------------------------------------------------------


def _device(status: str = "pending", polled: float | None = None) -> TokenContext:
    device = DeviceCode("h", "BCDFGHJK", "tv", "openid", "f", 2000.0, 5, polled, status, 1, 1.0)
    form = Params((("grant_type", DEVICE_CODE), ("device_code", "x"), ("client_id", "tv")))
    request = Request("POST", "/token", Params(), form, {}, {})
    ctx = TokenContext(request, 1000.0, presented_device=device)
    ctx.client = Client.registered(
        client_metadata(client_id="tv", public=True, grant_types=[DEVICE_CODE]), None
    )
    return ctx


def test_device_code_known() -> None:
    ctx = _device()
    _run(rfc8628.device_code_known, ctx)
    assert ctx.device is not None
    unknown = _device()
    unknown.presented_device = None
    _refused(rfc8628.device_code_known, unknown, InvalidGrant)


def test_device_code_not_expired() -> None:
    ctx = _device()
    rfc8628.device_code_known.run(ctx)
    _run(rfc8628.device_code_not_expired, ctx)
    ctx.now = 2000.0
    _refused(rfc8628.device_code_not_expired, ctx, ExpiredToken)


def test_device_polls_slowly() -> None:
    ctx = _device(polled=990.0)
    rfc8628.device_code_known.run(ctx)
    _run(rfc8628.device_polls_slowly, ctx)
    assert ctx.actions == [RecordPoll("h", 5)]
    fast = _device(polled=998.0)
    rfc8628.device_code_known.run(fast)
    assert _refused(rfc8628.device_polls_slowly, fast, SlowDown) == "poll at most every 10 seconds"
    assert fast.actions == [RecordPoll("h", 10)]


@pytest.mark.parametrize(
    ("status", "kind"),
    [
        ("pending", AuthorizationPending),
        ("denied", rfc8628.DeviceAccessDenied),
        ("used", InvalidGrant),
    ],
)
def test_device_decided(status: str, kind: type[OAuthError]) -> None:
    ctx = _device("approved")
    rfc8628.device_code_known.run(ctx)
    _run(rfc8628.device_decided, ctx)
    other = _device(status)
    rfc8628.device_code_known.run(other)
    _refused(rfc8628.device_decided, other, kind)

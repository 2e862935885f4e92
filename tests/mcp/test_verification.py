"""The MCP server's verifier against a JWKS served over HTTP on 127.0.0.1: the key set
fetched once, fetched again for an unknown kid, and not more often than `refetch_every`
allows; audiences compared exactly; a broken key set refused cleanly."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Iterator

import httpx
import pytest
from joserfc import jws
from joserfc.jwk import ECKey

from tests.support.document_server import Answer, DocumentServer
from valetkey.mcp import scopes
from valetkey.mcp.verification import TokenRejected, Verifier

ISSUER, RESOURCE = "http://as.test", "http://mcp.test/mcp"


def _signed(key: ECKey, **changed: object) -> str:
    now = int(time.time())
    claims = {"iss": ISSUER, "aud": RESOURCE, "exp": now + 60, "scope": "photos.read", **changed}
    header = {"alg": "ES256", "typ": "at+jwt", "kid": key.kid}
    return jws.serialize_compact(header, json.dumps(claims).encode(), key, algorithms=["ES256"])


class Jwks:
    """A key set served at /jwks.json by a real server; `publish` changes what it serves."""

    def __init__(self, server: DocumentServer, *keys: ECKey) -> None:
        self.server, self.keys = server, list(keys)
        self.uri = server.url + "/jwks.json"
        self.publish()

    def publish(self, body: bytes | None = None) -> None:
        keys = {"keys": [k.as_dict(private=False) for k in self.keys]}
        served = json.dumps(keys).encode() if body is None else body
        self.server.answers["/jwks.json"] = Answer(body=served)

    @property
    def fetches(self) -> int:
        return self.server.hits["/jwks.json"]


@pytest.fixture
def server() -> Iterator[DocumentServer]:
    running = DocumentServer().start()
    yield running
    running.stop()


def _verify(verifier: Verifier, token: str) -> frozenset[str]:
    async def run() -> frozenset[str]:
        async with httpx.AsyncClient(trust_env=False) as http:
            return (await verifier.verify(token, http)).scopes

    return asyncio.run(run())


def test_jwks_fetched_once_for_known_kids(server: DocumentServer) -> None:
    key = ECKey.generate_key("P-256", private=True, auto_kid=True)
    jwks = Jwks(server, key)
    verifier = Verifier(ISSUER, RESOURCE, jwks.uri)
    assert _verify(verifier, _signed(key)) == {"photos.read"}
    assert _verify(verifier, _signed(key)) == {"photos.read"}
    assert jwks.fetches == 1


def _warmed(server: DocumentServer, refetch_every: float) -> tuple[ECKey, Jwks, Verifier]:
    """A verifier that has fetched a JWKS of one key, and a second key nobody published."""
    known, other = (ECKey.generate_key("P-256", private=True, auto_kid=True) for _ in range(2))
    jwks = Jwks(server, known)
    verifier = Verifier(ISSUER, RESOURCE, jwks.uri, refetch_every=refetch_every)
    _verify(verifier, _signed(known))
    return other, jwks, verifier


def test_unknown_kid_refetches_when_allowed(server: DocumentServer) -> None:
    """A rotated key: the new kid is unknown, so the JWKS is fetched again."""
    new, jwks, verifier = _warmed(server, refetch_every=0)
    jwks.keys.append(new)
    jwks.publish()
    assert _verify(verifier, _signed(new)) == {"photos.read"}
    assert jwks.fetches == 2


def test_unknown_kids_do_not_hammer_the_jwks(server: DocumentServer) -> None:
    stranger, jwks, verifier = _warmed(server, refetch_every=3600)
    for _ in range(3):
        with pytest.raises(TokenRejected, match="not in the authorization server's JWKS"):
            _verify(verifier, _signed(stranger))
    assert jwks.fetches == 1


@pytest.mark.parametrize(
    ("aud", "accepted"),
    [
        (RESOURCE, True),
        ([RESOURCE, "x"], True),
        (RESOURCE + "/", False),
        ("http://MCP.test/mcp", False),
    ],
)
def test_audience_is_compared_exactly(server: DocumentServer, aud: object, accepted: bool) -> None:
    """RFC 8707 §2: the canonical URL, byte for byte; a list may name it."""
    key = ECKey.generate_key("P-256", private=True, auto_kid=True)
    verifier = Verifier(ISSUER, RESOURCE, Jwks(server, key).uri)
    if accepted:
        assert _verify(verifier, _signed(key, aud=aud)) == {"photos.read"}
    else:
        with pytest.raises(TokenRejected, match="another audience"):
            _verify(verifier, _signed(key, aud=aud))


@pytest.mark.parametrize(
    ("body", "needed"),
    [
        (b"", ("photos.read",)),
        (b"not json", ("photos.read",)),
        (b'{"method": "tools/list"}', ("photos.read",)),
        (b'{"method": "tools/call", "params": {"name": "list_photos"}}', ("photos.read",)),
        (
            b'{"method": "tools/call", "params": {"name": "print_photo"}}',
            ("photos.read", "photos.print"),
        ),
        (
            b'[{"method": "tools/list"}, '
            b'{"method": "tools/call", "params": {"name": "print_photo"}}]',
            ("photos.read", "photos.print"),
        ),
        (b'{"method": "tools/call", "params": "print_photo"}', ("photos.read",)),
    ],
)
def test_scope_needed_per_request(body: bytes, needed: tuple[str, ...]) -> None:
    assert scopes.needed(body) == needed


@pytest.mark.parametrize("body", [b"not json", b'{"keys": [{"kty": "nope"}]}', b"[]"])
def test_a_broken_jwks_is_an_http_error_not_a_crash(server: DocumentServer, body: bytes) -> None:
    """The guard answers an HTTPError with 401 `invalid_token` ("try again"), never a 500."""
    key = ECKey.generate_key("P-256", private=True, auto_kid=True)
    jwks = Jwks(server)
    jwks.publish(body)
    verifier = Verifier(ISSUER, RESOURCE, jwks.uri)
    with pytest.raises(httpx.DecodingError, match="JWKS is not a key set"):
        _verify(verifier, _signed(key))

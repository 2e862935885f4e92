"""The JWKS cache of the MCP server's verifier, on httpx's MockTransport: fetched once,
fetched again for an unknown kid, and not more often than `refetch_every` allows."""

from __future__ import annotations

import asyncio
import json
import time

import httpx
import pytest
from joserfc import jws
from joserfc.jwk import ECKey

from valetkey.mcp import scopes
from valetkey.mcp.verification import TokenRejected, Verifier

ISSUER, RESOURCE = "http://as.test", "http://mcp.test/mcp"


def _signed(key: ECKey, **changed: object) -> str:
    now = int(time.time())
    claims = {"iss": ISSUER, "aud": RESOURCE, "exp": now + 60, "scope": "photos.read", **changed}
    header = {"alg": "ES256", "typ": "at+jwt", "kid": key.kid}
    return jws.serialize_compact(header, json.dumps(claims).encode(), key, algorithms=["ES256"])


class Jwks:
    def __init__(self, *keys: ECKey) -> None:
        self.keys, self.fetches = list(keys), 0

    def handler(self, request: httpx.Request) -> httpx.Response:
        self.fetches += 1
        return httpx.Response(200, json={"keys": [k.as_dict(private=False) for k in self.keys]})


def _verify(verifier: Verifier, jwks: Jwks, token: str) -> frozenset[str]:
    async def run() -> frozenset[str]:
        async with httpx.AsyncClient(transport=httpx.MockTransport(jwks.handler)) as http:
            return (await verifier.verify(token, http)).scopes

    return asyncio.run(run())


def test_jwks_fetched_once_for_known_kids() -> None:
    key = ECKey.generate_key("P-256", private=True, auto_kid=True)
    jwks, verifier = Jwks(key), Verifier(ISSUER, RESOURCE, "http://as.test/jwks.json")
    assert _verify(verifier, jwks, _signed(key)) == {"photos.read"}
    assert _verify(verifier, jwks, _signed(key)) == {"photos.read"}
    assert jwks.fetches == 1


def _warmed(refetch_every: float) -> tuple[ECKey, Jwks, Verifier]:
    """A verifier that has fetched a JWKS of one key, and a second key nobody published."""
    known, other = (ECKey.generate_key("P-256", private=True, auto_kid=True) for _ in range(2))
    jwks = Jwks(known)
    verifier = Verifier(ISSUER, RESOURCE, "http://as.test/jwks.json", refetch_every=refetch_every)
    _verify(verifier, jwks, _signed(known))
    return other, jwks, verifier


def test_unknown_kid_refetches_when_allowed() -> None:
    """A rotated key: the new kid is unknown, so the JWKS is fetched again."""
    new, jwks, verifier = _warmed(refetch_every=0)
    jwks.keys.append(new)
    assert _verify(verifier, jwks, _signed(new)) == {"photos.read"}
    assert jwks.fetches == 2


def test_unknown_kids_do_not_hammer_the_jwks() -> None:
    stranger, jwks, verifier = _warmed(refetch_every=3600)
    for _ in range(3):
        with pytest.raises(TokenRejected, match="not in the authorization server's JWKS"):
            _verify(verifier, jwks, _signed(stranger))
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
def test_audience_is_compared_exactly(aud: object, accepted: bool) -> None:
    """RFC 8707 §2: the canonical URL, byte for byte; a list may name it."""
    key = ECKey.generate_key("P-256", private=True, auto_kid=True)
    verifier = Verifier(ISSUER, RESOURCE, "http://as.test/jwks.json")
    if accepted:
        assert _verify(verifier, Jwks(key), _signed(key, aud=aud))
    else:
        with pytest.raises(TokenRejected, match="another audience"):
            _verify(verifier, Jwks(key), _signed(key, aud=aud))


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
def test_a_broken_jwks_is_an_http_error_not_a_crash(body: bytes) -> None:
    """The guard answers an HTTPError with 401 `invalid_token` ("try again"), never a 500."""
    key = ECKey.generate_key("P-256", private=True, auto_kid=True)
    verifier = Verifier(ISSUER, RESOURCE, "http://as.test/jwks.json")

    async def run() -> None:
        transport = httpx.MockTransport(lambda request: httpx.Response(200, content=body))
        async with httpx.AsyncClient(transport=transport) as http:
            await verifier.verify(_signed(key), http)

    with pytest.raises(httpx.DecodingError, match="JWKS is not a key set"):
        asyncio.run(run())

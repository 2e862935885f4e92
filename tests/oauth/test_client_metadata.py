"""The client-metadata rules (RFC 7591 §2, §2.1, §3.2.2), without sockets."""

from __future__ import annotations

from typing import Any

import pytest

from valetkey.oauth.client_metadata import (
    ClientMetadata,
    ClientMetadataError,
    FieldNames,
    client_metadata,
    client_secret,
)

URI = "https://app.example/cb"


def test_defaults_follow_rfc7591() -> None:
    assert client_metadata(client_id="app", redirect_uris=[URI]) == ClientMetadata(
        client_id="app",
        name="app",
        redirect_uris=(URI,),
        post_logout_redirect_uris=(),
        scopes=frozenset({"openid", "profile", "email", "photos.read", "offline_access"}),
        grant_types=frozenset({"authorization_code", "refresh_token"}),
        token_endpoint_auth_method="client_secret_basic",
        response_types=frozenset({"code"}),
        id_token_signed_response_alg="RS256",
        public=False,
    )


def test_a_public_client_authenticates_with_none() -> None:
    spa = client_metadata(client_id="spa", public=True, redirect_uris=[URI])
    assert (spa.token_endpoint_auth_method, spa.public) == ("none", True)


def test_grant_types_follow_the_response_types_left_alone() -> None:
    legacy = client_metadata(
        client_id="old", redirect_uris=[URI], response_types=["token id_token"]
    )
    assert legacy.grant_types == frozenset({"implicit"})
    assert legacy.response_types == frozenset({"id_token token"})  # a set: words sorted
    both = client_metadata(client_id="b", redirect_uris=[URI], response_types=["code", "token"])
    assert both.grant_types == frozenset({"authorization_code", "refresh_token", "implicit"})
    batch = client_metadata(client_id="batch", grant_types=["client_credentials"])
    assert (batch.response_types, batch.redirect_uris) == (frozenset(), ())


def test_redirect_uris_are_stored_in_ascii() -> None:
    made = client_metadata(client_id="idn", redirect_uris=["https://bücher.example/cb"])
    assert made.redirect_uris == ("https://xn--bcher-kva.example/cb",)


REFUSED: list[tuple[dict[str, Any], str, str]] = [
    (
        {"redirect_uris": ["http://evil.example/cb"]},
        "invalid_redirect_uri",
        "redirect_uri 'http://evil.example/cb' must use https unless it points at a loopback "
        "address (RFC 9700 §2.6)",
    ),
    (
        {"post_logout_redirect_uris": ["https://a.example/#x"]},
        "invalid_redirect_uri",
        "post_logout_redirect_uri 'https://a.example/#x' must not contain a fragment "
        "(RFC 6749 §3.1.2)",
    ),
    ({}, "invalid_client_metadata", "the authorization_code grant needs at least one redirect_uri"),
    (
        {"response_types": ["token"], "grant_types": ["authorization_code"]},
        "invalid_client_metadata",
        "response_types 'token' needs the implicit grant (RFC 7591 §2.1)",
    ),
    (
        {"response_types": ["code"], "grant_types": ["authorization_code", "implicit"]},
        "invalid_client_metadata",
        "the implicit grant needs a response_types that uses it (RFC 7591 §2.1)",
    ),
    (
        {"response_types": [], "grant_types": ["authorization_code"]},
        "invalid_client_metadata",
        "the authorization_code grant needs a response_types that uses it (RFC 7591 §2.1)",
    ),
    (
        {"response_types": ["code token"]},
        "invalid_client_metadata",
        "response_types are from ['code', 'token', 'id_token', 'id_token token']",
    ),
    (
        {"grant_types": ["password"]},
        "invalid_client_metadata",
        "grants are from ['authorization_code', 'client_credentials', 'implicit', "
        "'refresh_token', 'urn:ietf:params:oauth:grant-type:device_code']",
    ),
    (
        {"public": True, "grant_types": ["client_credentials"]},
        "invalid_client_metadata",
        "a public client cannot use client_credentials (RFC 6749 §4.4)",
    ),
    (
        {"public": True, "token_endpoint_auth_method": "client_secret_basic"},
        "invalid_client_metadata",
        'token_endpoint_auth_method none is for public clients ("public": true), and a public '
        "client has no other method",
    ),
    (
        {"token_endpoint_auth_method": "none"},
        "invalid_client_metadata",
        'token_endpoint_auth_method none is for public clients ("public": true), and a public '
        "client has no other method",
    ),
    (
        {"token_endpoint_auth_method": "private_key_jwt"},
        "invalid_client_metadata",
        "token_endpoint_auth_method is one of ['client_secret_basic', 'client_secret_post', "
        "'none']",
    ),
    (
        {"client_id": "a/b"},
        "invalid_client_metadata",
        "client_id must not contain '/' or control characters (it is part of admin URLs)",
    ),
    ({"name": "n" * 256}, "invalid_client_metadata", "name has 1 to 255 characters"),
    (
        {"scope": "openid\tprofile"},
        "invalid_client_metadata",
        "scopes is a space-separated list of at most 2000 characters",
    ),
    (
        {"id_token_signed_response_alg": "HS256"},
        "invalid_client_metadata",
        "id_token_alg is RS256 or ES256",
    ),
]


@pytest.mark.parametrize(("change", "error", "description"), REFUSED)
def test_refused_with_the_rfc7591_error(
    change: dict[str, Any], error: str, description: str
) -> None:
    fields: dict[str, Any] = {"client_id": "app", "redirect_uris": [URI]}
    if change and "redirect_uris" not in change and "response_types" not in change:
        fields.update(change)
    else:
        fields = {"client_id": "app", **change}
    with pytest.raises(ClientMetadataError) as raised:
        client_metadata(**fields)
    assert (raised.value.error, raised.value.description) == (error, description)


def test_messages_use_the_callers_field_names() -> None:
    names = FieldNames(redirect_uri="--redirect-uri", public="--public", secret="--secret")
    with pytest.raises(ClientMetadataError, match=r"needs at least one --redirect-uri$"):
        client_metadata(client_id="app", names=names)
    with pytest.raises(ClientMetadataError, match=r"^--public and --secret exclude each other"):
        client_secret("s" * 20, True, names)


def test_secrets() -> None:
    assert client_secret(None, True) is None
    generated = client_secret(None, False)
    assert generated is not None
    assert len(generated) == 43
    assert client_secret("s" * 16, False) == "s" * 16
    for bad in ("", "s" * 15, "s" * 1025):
        with pytest.raises(ClientMetadataError, match="secret has 16 to 1024 characters"):
            client_secret(bad, False)

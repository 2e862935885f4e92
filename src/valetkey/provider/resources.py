"""What a resource registration may be: one set of rules for the CLI, the admin API and the
`valetkey.sandbox` facade (RFC 8707 §2).

The URI is stored in its canonical form (`valetkey.oauth.resource_uri`), which is what a
`resource` parameter is compared with and what access tokens carry as `aud`. A resource
serves at least one scope; each is a scope token (RFC 6749 §3.3). It may name the
confidential client its server authenticates as, which may then introspect the access tokens
issued for it (RFC 7662 §2.1: the authorization server decides who may introspect what).
"""

from __future__ import annotations

from collections.abc import Sequence

from valetkey.oauth.resource_uri import ResourceUriError, canonical_resource
from valetkey.oauth.scope import TOKEN
from valetkey.provider.store.records import Client, Resource

MAX_SCOPES = 50
MAX_NAME = 255


class ResourceError(ValueError):
    """Why a resource cannot be registered (one line, naming the field)."""


def _scopes(scopes: Sequence[str], field: str) -> frozenset[str]:
    names = [name for text in scopes for name in text.split()]
    if not names:
        raise ResourceError(f"{field}: name at least one scope the resource serves")
    if len(names) > MAX_SCOPES:
        raise ResourceError(f"{field}: at most {MAX_SCOPES} scopes")
    for name in names:
        if TOKEN.fullmatch(name) is None:
            raise ResourceError(f"{field}: {name!r} is not a scope token (RFC 6749 §3.3)")
    return frozenset(names)


def _name(name: str | None, uri: str, field: str) -> str:
    if name is None:
        return uri
    if not 0 < len(name) <= MAX_NAME or any(ord(c) < 0x20 or ord(c) == 0x7F for c in name):
        raise ResourceError(f"{field}: 1 to {MAX_NAME} characters, no control characters")
    return name


def resource_record(
    uri: str,
    scopes: Sequence[str],
    name: str | None = None,
    *,
    fields: tuple[str, str, str] = ("uri", "scopes", "name"),
    client: Client | None = None,
) -> Resource:
    """The row to store, or ResourceError; `fields` are what the caller calls the three.
    `client`: the resource server's own client, already looked up (see `server_client`)."""
    try:
        canonical = canonical_resource(uri)
    except ResourceUriError as exc:
        raise ResourceError(f"{fields[0]} {exc}") from None
    return Resource(
        canonical,
        _name(name, canonical, fields[2]),
        _scopes(scopes, fields[1]),
        client.client_id if client else None,
    )


def server_client(found: Client | None, client_id: str, field: str) -> Client:
    """The client a resource server authenticates as: it must exist and be confidential,
    since introspection needs client authentication (RFC 7662 §2.1)."""
    if found is None:
        raise ResourceError(f"{field}: no client {client_id!r}; register it first")
    if found.is_public:
        raise ResourceError(
            f"{field}: {client_id!r} is a public client; a resource server introspects with "
            "a secret (RFC 7662 §2.1)"
        )
    return found

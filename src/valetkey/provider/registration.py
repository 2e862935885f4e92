"""A validated registration as the store's row: the metadata, and the secret as its SHA-256."""

from __future__ import annotations

from valetkey.oauth.client_metadata import ClientMetadata
from valetkey.provider.store.records import Client
from valetkey.provider.tokens import digest


def client_record(metadata: ClientMetadata, secret: str | None, origin: str = "admin") -> Client:
    """The row to store; the secret itself is never kept (RFC 6819 §5.1.4.1.3)."""
    return Client.registered(metadata, None if secret is None else digest(secret), origin)

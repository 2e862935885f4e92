"""The client a metadata document describes (CIMD), for the authorization and token
endpoints: fetched in their loaders, judged by `DOCUMENT_CHECKS`, then stored.

The row is stored (origin `cimd`) so that consents, grants and the inspector can name the
client like any other; it is updated when the document changes.
"""

from __future__ import annotations

from valetkey.oauth.client_id_metadata_document import document_url_problem, is_document_url
from valetkey.provider.checks import CheckResult
from valetkey.provider.checks.client_id_metadata_document import (
    DOCUMENT_CHECKS,
    DocumentContext,
)
from valetkey.provider.client_documents import Fetched
from valetkey.provider.core import Provider
from valetkey.provider.errors import InvalidClientMetadata, OAuthError
from valetkey.provider.registration import client_record
from valetkey.provider.store.queries import DuplicateError
from valetkey.provider.store.records import Client


def load_document(provider: Provider, client_id: str) -> DocumentContext | None:
    """For a loader: the fetched document when the client_id is a URL (None when it is not).
    A URL that cannot name a document is not fetched; the first check says why."""
    if not is_document_url(client_id):
        return None
    if document_url_problem(client_id) is not None:
        return DocumentContext(client_id, Fetched(client_id, problem="not fetched"))
    return DocumentContext(client_id, provider.documents.get(client_id, provider.clock.now()))


def document_client(
    provider: Provider, document: DocumentContext, results: list[CheckResult]
) -> Client:
    """The client the document describes, once its checks passed, stored; else the first
    check's RFC 7591 §3.2.2 error (and the document is not kept in the cache)."""
    try:
        provider.table(DOCUMENT_CHECKS).run(document, results)
    except OAuthError:
        provider.documents.forget(document.url)
        raise
    assert document.metadata is not None
    client = client_record(document.metadata, None, origin="cimd")
    if provider.store.client(client.client_id) != client:
        try:
            provider.store.save_document_client(client, provider.clock.now())
        except DuplicateError:
            raise InvalidClientMetadata("another client is registered with this id") from None
    return client

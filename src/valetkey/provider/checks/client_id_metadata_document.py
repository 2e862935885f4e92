"""Client ID Metadata Documents (draft-ietf-oauth-client-id-metadata-document, "CIMD"): the
checks a fetched document passes before its client may start or finish a flow.

The endpoint's loader fetched the document (`provider/client_documents.py`); these checks
read only that record. Each refusal is an RFC 7591 §3.2.2 error (`invalid_client_metadata`,
`invalid_redirect_uri`), which the authorization endpoint shows on its error page (no
redirect: the redirect URIs are what failed to load) and the token endpoint answers as
`invalid_client`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from valetkey.oauth import strict_json
from valetkey.oauth.client_id_metadata_document import document_url_problem
from valetkey.oauth.client_metadata import (
    DEFAULT_SCOPE,
    ClientMetadata,
    ClientMetadataError,
    client_metadata,
)
from valetkey.provider.checks import Table, check
from valetkey.provider.checks.rfc7591 import JSON_NAMES, SELF_GRANTS, check_types, raised
from valetkey.provider.client_documents import Fetched
from valetkey.provider.errors import InvalidClientMetadata

SECRET_METHODS = ("client_secret_basic", "client_secret_post", "client_secret_jwt")


@dataclass
class DocumentContext:
    """A client_id that is a URL, and what fetching it gave."""

    url: str
    fetched: Fetched
    data: dict[str, Any] = field(default_factory=dict)
    metadata: ClientMetadata | None = None


@check("", "CIMD §3")
def document_url_valid(ctx: DocumentContext) -> None:
    """The client_id is a URL that may name a metadata document.

    https (or http to a loopback address, for development), with a path, without a
    fragment, userinfo or dot segments, and at most 255 characters.
    """
    problem = document_url_problem(ctx.url)
    if problem is not None:
        raise InvalidClientMetadata(f"a client_id URL {problem} (CIMD §3)")


@check("", "CIMD §4, Security Considerations (SSRF)")
def document_fetched(ctx: DocumentContext) -> None:
    """The document was fetched: from an allowed host, within 2 s and 5 KiB, no redirect.

    The SSRF guard lets the sandbox fetch only from loopback unless `--cimd-allow HOST`
    names the host; a redirect is not followed (the client_id is the document's own URL).
    """
    if ctx.fetched.problem:
        raise InvalidClientMetadata(ctx.fetched.problem)
    if ctx.fetched.status != 200:
        raise InvalidClientMetadata(
            f"the document URL answered {ctx.fetched.status}, not 200 (CIMD §4)"
        )


@check("", "CIMD §4", sets=("data",))
def document_is_json(ctx: DocumentContext) -> None:
    """The document is a JSON object served as application/json."""
    content_type = ctx.fetched.content_type
    if content_type != "application/json" and not (
        content_type.startswith("application/") and content_type.endswith("+json")
    ):
        raise InvalidClientMetadata(
            f"the document must be served as application/json, not {content_type or 'untyped'}"
        )
    try:
        ctx.data = strict_json.loads_object(ctx.fetched.body)
    except ValueError as exc:
        raise InvalidClientMetadata(f"the document is not a JSON object ({exc})") from None


@check("", "CIMD §4", needs=("data",))
def document_names_itself(ctx: DocumentContext) -> None:
    """The document's client_id equals its URL, character for character (RFC 3986 §6.2.1)."""
    if ctx.data.get("client_id") != ctx.url:
        raise InvalidClientMetadata(
            "the document's client_id must equal its URL exactly (CIMD §4); it says "
            f"{str(ctx.data.get('client_id'))[:100]!r}"
        )


@check("", "CIMD §4", needs=("data",))
def document_holds_no_secret(ctx: DocumentContext) -> None:
    """The document names no shared secret: no client_secret, no client_secret_* method.

    A document is public, so a secret in it is no secret (CIMD §4). The sandbox does not
    implement private_key_jwt, so `none` (a public client, with PKCE) is the one method left.
    """
    if "client_secret" in ctx.data or "client_secret_expires_at" in ctx.data:
        raise InvalidClientMetadata("a metadata document must not hold a client_secret")
    method = ctx.data.get("token_endpoint_auth_method", "none")
    if method in SECRET_METHODS:
        raise InvalidClientMetadata(
            f"token_endpoint_auth_method {method} needs a shared secret, which a public "
            "document cannot hold (CIMD §4): use none"
        )
    if method != "none":
        raise InvalidClientMetadata(
            f"token_endpoint_auth_method {str(method)[:40]!r}: the sandbox takes none for "
            "document clients (private_key_jwt is not implemented)"
        )


@check("", "CIMD §4; RFC 7591 §2; RFC 8252 §7", needs=("data",), sets=("metadata",))
def document_metadata_valid(ctx: DocumentContext) -> None:
    """The document's metadata follows the same rules as a registration.

    The redirect URIs, grant and response types, scope and application type are checked as
    `valetkey clients add` and RFC 7591 registration check them; no implicit grant.
    """
    data = ctx.data
    check_types(data)
    try:
        metadata = client_metadata(
            client_id=ctx.url,
            name=data.get("client_name", urlsplit(ctx.url).hostname),
            public=True,
            redirect_uris=data.get("redirect_uris", []),
            scope=data.get("scope", DEFAULT_SCOPE),
            grant_types=data.get("grant_types"),
            token_endpoint_auth_method="none",  # noqa: S106 (a method name)
            response_types=data.get("response_types"),
            application_type=data.get("application_type", "web"),
            document=True,
            names=JSON_NAMES,
        )
    except ClientMetadataError as exc:
        raise raised(exc) from None
    if not metadata.grant_types <= SELF_GRANTS:
        raise InvalidClientMetadata("grant_types: the implicit grant is not offered")
    ctx.metadata = metadata


DOCUMENT_CHECKS = Table.of(
    "client ID metadata document",
    [
        document_url_valid,
        document_fetched,
        document_is_json,
        document_names_itself,
        document_holds_no_secret,
        document_metadata_valid,
    ],
)

"""Client authentication at the token, revocation and introspection endpoints (RFC 6749 §2.3).

Methods: `client_secret_basic` (the id and secret form-urlencoded, then Basic-encoded, per
§2.3.1), `client_secret_post`, and `none` for public clients, which identify themselves with
client_id and must then prove possession with PKCE. Each client uses the one method it
registered (RFC 7591 §2 `token_endpoint_auth_method`); any other is `invalid_client`. Using
two methods at once, or putting a secret in the URL, is refused. Secrets are compared as
SHA-256 digests in constant time.
"""

from __future__ import annotations

import base64
import binascii
from urllib.parse import unquote_plus

from valetkey.provider.checks import check
from valetkey.provider.checks.context import TokenContext
from valetkey.provider.errors import InvalidClient, InvalidRequest
from valetkey.provider.http import Request
from valetkey.provider.store.records import Client
from valetkey.provider.tokens import digest, same


def _basic_credentials(header: str) -> tuple[str, str]:
    scheme, _, encoded = header.partition(" ")
    if scheme.lower() != "basic" or not encoded:
        raise InvalidClient("unsupported Authorization scheme; use Basic or client_secret_post")
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        raise InvalidClient("the Basic credentials are not valid base64") from None
    client_id, sep, secret = decoded.partition(":")
    if not sep:
        raise InvalidClient("the Basic credentials have no ':' between id and secret")
    return unquote_plus(client_id), unquote_plus(secret)


def presented_secret(request: Request) -> str | None:
    """The client secret the request carried (Basic or posted), if any; never raises."""
    header = request.headers.get("authorization")
    if header is None:
        return request.form.get("client_secret")
    try:
        return _basic_credentials(header)[1]
    except InvalidClient:
        return None


def named_client_id(request: Request) -> str | None:
    """The client id the credentials name (for the loader); None when they cannot be read.
    `authenticate` reads them again and raises on what is wrong with them."""
    header = request.headers.get("authorization")
    if header is None:
        return request.form.get("client_id") or None
    try:
        return _basic_credentials(header)[0] or None
    except InvalidClient:
        return None


def authenticate(named: Client | None, request: Request) -> tuple[Client, str]:
    """The authenticated client and the method it used; raises InvalidClient (401).
    `named` is the stored client `named_client_id` names, loaded before."""
    form = request.form
    header = request.headers.get("authorization")
    posted_secret = form.get("client_secret")
    if header is not None and posted_secret is not None:
        raise InvalidRequest("use one client authentication method, not two (RFC 6749 §2.3)")
    if header is not None:
        client_id, secret = _basic_credentials(header)
        method = "client_secret_basic"
        if form.get("client_id") not in (None, client_id):
            raise InvalidRequest("client_id in the body differs from the Basic credentials")
    else:
        client_id, secret = form.get("client_id") or "", posted_secret or ""
        method = "client_secret_post" if posted_secret is not None else "none"
    client = named if named is not None and named.client_id == client_id else None
    if client is None:
        raise InvalidClient("client authentication failed", detail=f"unknown client {client_id!r}")
    if client.secret_hash is None:
        if method != "none":
            raise InvalidClient("this public client has no secret; send client_id only")
        return client, method
    if method == "none" or not same(digest(secret), client.secret_hash):
        raise InvalidClient("client authentication failed", detail=f"bad secret for {client_id!r}")
    _registered_method(client, method)
    return client, method


def _registered_method(client: Client, method: str) -> None:
    """The method is the one the client registered (RFC 7591 §2); told only to a client
    that proved its secret."""
    registered = client.token_endpoint_auth_method
    if method != registered:
        raise InvalidClient(
            f"this client is registered for {registered}, not {method}; authenticate with "
            f"{registered} (RFC 7591 §2)"
        )


@check("AS-23", "RFC 6749 §2.3.1, §3.2.1", sets=("client",))
def client_authenticated(ctx: TokenContext) -> None:
    """The client authenticates (confidential) or identifies itself (public)."""
    ctx.client, ctx.auth_method = authenticate(ctx.named_client, ctx.request)

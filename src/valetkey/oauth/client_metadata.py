"""What a client registers, and the one set of rules a registration must follow.

Every way of registering a client (the `valetkey clients add` command, the admin API, the
demo data, the pytest plugin, the reference client's labs) builds its `ClientMetadata`
through `client_metadata()`, so each rule below is written once. The field names follow
RFC 7591 §2; the errors are RFC 7591 §3.2.2's `invalid_redirect_uri` and
`invalid_client_metadata`, each with a description in the caller's own words for the
fields (`FieldNames`: `--redirect-uri` on the command line, `redirect_uris` in JSON).

Defaults (RFC 7591 §2): `token_endpoint_auth_method` is `client_secret_basic` for a
confidential client and `none` for a public one; `grant_types` is `authorization_code` and
`refresh_token` (or what the response types need); `response_types` is what the grant
types need (`code` for `authorization_code`).
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from dataclasses import dataclass

from valetkey.oauth.redirect_uris import RedirectUriError, normalize_redirect_uri

TOKEN_ENDPOINT_AUTH_METHODS = ("client_secret_basic", "client_secret_post", "none")
DEVICE_CODE = "urn:ietf:params:oauth:grant-type:device_code"  # RFC 8628 §3.4
GRANT_TYPES = ("authorization_code", "implicit", "refresh_token", "client_credentials", DEVICE_CODE)
DEFAULT_GRANT_TYPES = ("authorization_code", "refresh_token")
# RFC 7591 §2.1: the grant type each response type belongs to (space-separated sets, so
# the words are kept in sorted order: "token id_token" is "id_token token")
RESPONSE_TYPE_GRANTS = {
    "code": "authorization_code",
    "token": "implicit",
    "id_token": "implicit",
    "id_token token": "implicit",
}
RESPONSE_TYPES = tuple(RESPONSE_TYPE_GRANTS)
IMPLICIT_RESPONSE_TYPES = ("token", "id_token token", "id_token")
ID_TOKEN_ALGS = ("RS256", "ES256")
APPLICATION_TYPES = ("web", "native")  # OIDC Registration §2
MAX_REDIRECT_URIS = 20
DEFAULT_SCOPE = "openid profile email photos.read offline_access"
MAX_NAME = 255
MAX_SCOPE = 2000
SECRET_LENGTHS = (16, 1024)


class ClientMetadataError(ValueError):
    """A registration that breaks a rule: an RFC 7591 §3.2.2 error code and a description."""

    def __init__(self, error: str, description: str) -> None:
        super().__init__(description)
        self.error, self.description = error, description


@dataclass(frozen=True)
class FieldNames:
    """What the fields are called where the registration came from, for the messages."""

    client_id: str = "client_id"
    name: str = "name"
    secret: str = "secret"  # noqa: S105 (a field's name)
    public: str = '"public": true'
    redirect_uri: str = "redirect_uri"
    post_logout_redirect_uri: str = "post_logout_redirect_uri"
    scope: str = "scopes"
    grant: str = "grants"
    auth_method: str = "token_endpoint_auth_method"
    response_type: str = "response_types"
    id_token_alg: str = "id_token_alg"  # noqa: S105 (a field's name)
    application_type: str = "application_type"


@dataclass(frozen=True, kw_only=True)
class ClientMetadata:
    """A validated registration (RFC 7591 §2), without the secret."""

    client_id: str
    name: str
    redirect_uris: tuple[str, ...]
    post_logout_redirect_uris: tuple[str, ...]
    scopes: frozenset[str]
    grant_types: frozenset[str]
    token_endpoint_auth_method: str
    response_types: frozenset[str]
    id_token_signed_response_alg: str
    public: bool
    application_type: str = "web"


def _metadata_error(description: str) -> ClientMetadataError:
    return ClientMetadataError("invalid_client_metadata", description)


def _label(value: str, field: str) -> str:
    """An id or name used in admin URLs and pages: 1 to 255 characters, no '/' or controls."""
    if not 1 <= len(value) <= MAX_NAME:
        raise _metadata_error(f"{field} has 1 to {MAX_NAME} characters")
    if "/" in value or any(ord(c) < 0x20 or ord(c) == 0x7F for c in value):
        raise _metadata_error(
            f"{field} must not contain '/' or control characters (it is part of admin URLs)"
        )
    return value


def _document_client_id(value: str, field: str) -> str:
    """A client id that is a metadata document's URL (its URL rules are checked where it is
    fetched): at most 255 characters, as the store keeps it."""
    if not 1 <= len(value) <= MAX_NAME:
        raise _metadata_error(f"{field} has 1 to {MAX_NAME} characters")
    return value


def _uris(uris: Iterable[str], field: str) -> tuple[str, ...]:
    """The URIs as registered (hosts in punycode); RFC 6749 §3.1.2, RFC 9700 §4.1.3."""
    uris = tuple(uris)
    if len(uris) > MAX_REDIRECT_URIS:
        raise _metadata_error(f"{field}: at most {MAX_REDIRECT_URIS} URIs")
    normalized = []
    for uri in uris:
        try:
            normalized.append(normalize_redirect_uri(uri))
        except RedirectUriError as exc:
            raise ClientMetadataError("invalid_redirect_uri", f"{field} {uri!r} {exc}") from None
    return tuple(dict.fromkeys(normalized))


def _scopes(scope: str, field: str) -> frozenset[str]:
    """RFC 6749 §3.3: space-separated tokens of printable ASCII other than '"' and '\\'."""
    if len(scope) > MAX_SCOPE or any(ord(c) < 0x21 and c != " " for c in scope):
        raise _metadata_error(
            f"{field} is a space-separated list of at most {MAX_SCOPE} characters"
        )
    return frozenset(scope.split())


def _response_type(value: str, names: FieldNames) -> str:
    normalized = " ".join(sorted(value.split()))
    if normalized not in RESPONSE_TYPE_GRANTS:
        raise _metadata_error(f"{names.response_type} are from {list(RESPONSE_TYPES)}")
    return normalized


def _grant_and_response_types(
    grants: Iterable[str] | None, response_types: Iterable[str] | None, names: FieldNames
) -> tuple[frozenset[str], frozenset[str]]:
    """Both sets, the one left out derived from the other, consistent (RFC 7591 §2.1)."""
    types = None
    if response_types is not None:
        types = frozenset(_response_type(t, names) for t in response_types)
    if grants is None:
        needed = {RESPONSE_TYPE_GRANTS[t] for t in types} if types is not None else set()
        if "authorization_code" in needed or types is None:
            needed |= set(DEFAULT_GRANT_TYPES)
        grants = needed
    chosen = frozenset(grants)
    if not chosen <= set(GRANT_TYPES):
        raise _metadata_error(f"{names.grant} are from {sorted(GRANT_TYPES)}")
    if types is None:
        types = frozenset(t for t in ("code", "token") if RESPONSE_TYPE_GRANTS[t] in chosen)
    for response_type in sorted(types):
        if RESPONSE_TYPE_GRANTS[response_type] not in chosen:
            raise _metadata_error(
                f"{names.response_type} {response_type!r} needs the "
                f"{RESPONSE_TYPE_GRANTS[response_type]} grant (RFC 7591 §2.1)"
            )
    for grant in ("authorization_code", "implicit"):
        if grant in chosen and not any(RESPONSE_TYPE_GRANTS[t] == grant for t in types):
            raise _metadata_error(
                f"the {grant} grant needs a {names.response_type} that uses it (RFC 7591 §2.1)"
            )
    return chosen, types


def _auth_method(method: str | None, public: bool, names: FieldNames) -> str:
    """`none` for a public client and only for one (RFC 7591 §2; RFC 6749 §2.1)."""
    if method is None:
        return "none" if public else "client_secret_basic"
    if method not in TOKEN_ENDPOINT_AUTH_METHODS:
        raise _metadata_error(f"{names.auth_method} is one of {list(TOKEN_ENDPOINT_AUTH_METHODS)}")
    if (method == "none") != public:
        raise _metadata_error(
            f"{names.auth_method} none is for public clients ({names.public}), "
            "and a public client has no other method"
        )
    return method


def _grants_allowed(
    grants: frozenset[str], public: bool, uris: tuple[str, ...], names: FieldNames
) -> None:
    if public and "client_credentials" in grants:  # (RFC 8628 §3.1: a device may be public)
        raise _metadata_error("a public client cannot use client_credentials (RFC 6749 §4.4)")
    redirecting = sorted(grants & {"authorization_code", "implicit"})
    if redirecting and not uris:
        raise _metadata_error(f"the {redirecting[0]} grant needs at least one {names.redirect_uri}")


def _application_type(value: str | None, uris: tuple[str, ...], names: FieldNames) -> str:
    """web or native (OIDC Registration §2). Private-use schemes are for native apps only
    (RFC 8252 §7.1); both kinds may use http to a loopback address (RFC 8252 §7.3), which
    is what developers run locally (OIDC Registration reserves localhost for native).
    Not stated (the CLI, the admin API): native when a URI has a private-use scheme."""
    if value is None:
        web = all(uri.startswith(("https:", "http:")) for uri in uris)
        return "web" if web else "native"
    if value not in APPLICATION_TYPES:
        raise _metadata_error(f"{names.application_type} is web or native")
    if value == "web":
        for uri in uris:
            if not uri.startswith(("https:", "http:")):
                raise ClientMetadataError(
                    "invalid_redirect_uri",
                    f"{names.redirect_uri} {uri!r}: a private-use scheme is for native apps "
                    f'(RFC 8252 §7.1): register with {names.application_type} "native"',
                )
    return value


def client_metadata(
    *,
    client_id: str,
    name: str | None = None,
    public: bool = False,
    redirect_uris: Iterable[str] = (),
    post_logout_redirect_uris: Iterable[str] = (),
    scope: str = DEFAULT_SCOPE,
    grant_types: Iterable[str] | None = None,
    token_endpoint_auth_method: str | None = None,
    response_types: Iterable[str] | None = None,
    id_token_signed_response_alg: str = "RS256",  # noqa: S107 (an algorithm)
    application_type: str | None = None,
    document: bool = False,
    names: FieldNames = FieldNames(),
) -> ClientMetadata:
    """The registration, defaults filled in, or ClientMetadataError saying what is wrong.
    `document`: the client id is the URL of its metadata document (CIMD)."""
    uris = _uris(redirect_uris, names.redirect_uri)
    kind = _application_type(application_type, uris, names)
    grants, types = _grant_and_response_types(grant_types, response_types, names)
    _grants_allowed(grants, public, uris, names)
    if id_token_signed_response_alg not in ID_TOKEN_ALGS:
        raise _metadata_error(f"{names.id_token_alg} is {' or '.join(ID_TOKEN_ALGS)}")
    return ClientMetadata(
        client_id=(_document_client_id if document else _label)(client_id, names.client_id),
        name=_label(client_id if name is None else name, names.name),
        redirect_uris=uris,
        post_logout_redirect_uris=_uris(post_logout_redirect_uris, names.post_logout_redirect_uri),
        scopes=_scopes(scope, names.scope),
        grant_types=grants,
        token_endpoint_auth_method=_auth_method(token_endpoint_auth_method, public, names),
        response_types=types,
        id_token_signed_response_alg=id_token_signed_response_alg,
        public=public,
        application_type=kind,
    )


def client_secret(secret: str | None, public: bool, names: FieldNames = FieldNames()) -> str | None:
    """The secret to register: None for a public client, the given one if it is long
    enough, else a fresh 256-bit one (RFC 6819 §5.1.4.2.2: high entropy)."""
    if public:
        if secret is not None:
            raise _metadata_error(
                f"{names.public} and {names.secret} exclude each other: a public client has "
                "no secret"
            )
        return None
    if secret is None:
        return secrets.token_urlsafe(32)
    low, high = SECRET_LENGTHS
    if not low <= len(secret) <= high:
        empty = f"{names.secret} must not be empty: " if not secret else ""
        raise _metadata_error(
            f"{empty}{names.secret} has {low} to {high} characters; for a public client "
            f"use {names.public}"
        )
    return secret

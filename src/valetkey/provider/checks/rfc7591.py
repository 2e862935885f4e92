"""RFC 7591 dynamic client registration: the checks a registration request passes.

The rules about the metadata itself are `valetkey.oauth.client_metadata`'s, the same ones the
CLI and the admin API apply; these checks read the request as JSON, check the types of the
fields the sandbox understands (and ignore the others, RFC 7591 §2), narrow what a client
may register for itself, and enforce the sandbox's cap on self-registered clients. Every
refusal is RFC 7591 §3.2.2's `invalid_redirect_uri` or `invalid_client_metadata`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from valetkey.oauth import strict_json
from valetkey.oauth.client_metadata import (
    DEFAULT_SCOPE,
    DEVICE_CODE,
    MAX_REDIRECT_URIS,
    ClientMetadata,
    ClientMetadataError,
    FieldNames,
    client_metadata,
)
from valetkey.provider.checks import Table, check
from valetkey.provider.errors import (
    AccessDenied,
    InvalidClientMetadata,
    InvalidRedirectUri,
    OAuthError,
)
from valetkey.provider.http import Request

MAX_BODY = 16 * 1024  # a registration is a few hundred bytes; this leaves room for contacts
MAX_STRING = 2000
MAX_LIST = MAX_REDIRECT_URIS
STRING_FIELDS = (
    "client_name",
    "token_endpoint_auth_method",
    "scope",
    "application_type",
    "id_token_signed_response_alg",
    "client_uri",
    "logo_uri",
    "tos_uri",
    "policy_uri",
    "software_id",
    "software_version",
)
LIST_FIELDS = ("redirect_uris", "grant_types", "response_types", "contacts")
# what a client may register for itself: no implicit grant (RFC 9700 §2.1.2)
SELF_GRANTS = frozenset({"authorization_code", "refresh_token", "client_credentials", DEVICE_CODE})
JSON_NAMES = FieldNames(  # valetkey: ignore[OA101] (field names, not a request)
    client_id="client_id",
    name="client_name",
    secret="client_secret",  # noqa: S106  # valetkey: ignore[OA105] (a field's name)
    public='token_endpoint_auth_method "none"',
    redirect_uri="redirect_uris",
    scope="scope",
    grant="grant_types",
    auth_method="token_endpoint_auth_method",
    response_type="response_types",
    id_token_alg="id_token_signed_response_alg",  # noqa: S106 (a field's name)
)


@dataclass
class RegistrationContext:
    """A registration request, the client id the sandbox would give it, and how many
    self-registered clients the sandbox holds against its cap."""

    request: Request
    client_id: str
    registered: int
    cap: int
    data: dict[str, Any] = field(default_factory=dict)
    metadata: ClientMetadata | None = None


@check("", "RFC 7591 §3.1", sets=("data",))
def registration_is_json(ctx: RegistrationContext) -> None:
    """The registration is a JSON object sent as application/json, of at most 16 KiB.

    RFC 7591 §3.1: the client sends its metadata as a JSON document. Anything else (a form,
    a JSON array, text that is not JSON) is `invalid_client_metadata`, never a 500.
    """
    request = ctx.request
    if request.content_type != "application/json":
        raise InvalidClientMetadata("send the client metadata as JSON (application/json)")
    if len(request.body) > MAX_BODY:
        raise InvalidClientMetadata(f"the registration is larger than {MAX_BODY} bytes")
    try:
        ctx.data = strict_json.loads_object(request.body)
    except ValueError as exc:
        raise InvalidClientMetadata(f"the body must be a JSON object of metadata ({exc})") from None
    if "\\u0000" in request.body.decode("utf-8", "replace"):
        raise InvalidClientMetadata("the metadata contains a NUL character")


def _string(name: str, value: object) -> None:
    if not isinstance(value, str) or not 0 < len(value) <= MAX_STRING:
        raise InvalidClientMetadata(f"{name} is a string of 1 to {MAX_STRING} characters")


@check("", "RFC 7591 §2", needs=("data",))
def metadata_types(ctx: RegistrationContext) -> None:
    """Each metadata field the sandbox understands has its JSON type and a bounded size.

    Strings of at most 2000 characters; lists of at most 20 such strings. Fields the sandbox
    does not understand are ignored, as RFC 7591 §2 requires.
    """
    check_types(ctx.data)


def check_types(data: dict[str, Any]) -> None:
    """InvalidClientMetadata unless each understood field has its JSON type and size."""
    for name in STRING_FIELDS:
        if name in data:
            _string(name, data[name])
    for name in LIST_FIELDS:
        if name not in data:
            continue
        values = data[name]
        if not isinstance(values, list) or len(values) > MAX_LIST:
            raise InvalidClientMetadata(f"{name} is a JSON list of at most {MAX_LIST} strings")
        for value in values:
            _string(f"each of {name}", value)


def raised(exc: ClientMetadataError) -> OAuthError:
    """The RFC 7591 §3.2.2 error for a broken registration rule."""
    if exc.error == "invalid_redirect_uri":
        return InvalidRedirectUri(exc.description)
    return InvalidClientMetadata(exc.description)


@check("", "RFC 7591 §2, §2.1; RFC 8252 §7", needs=("data",), sets=("metadata",))
def metadata_valid(ctx: RegistrationContext) -> None:
    """The metadata follows the sandbox's registration rules.

    The same rules as `valetkey clients add` and the admin API: redirect URIs https or http
    to loopback (RFC 8252 §7.3), or a reverse-domain private-use scheme for a native app
    (RFC 8252 §7.1), with no userinfo, fragment or wildcard; `application_type` web or native
    (OIDC Registration §2); `token_endpoint_auth_method` none, client_secret_basic (the
    default, RFC 7591 §2) or client_secret_post; grant and response types consistent.
    """
    data = ctx.data
    method = data.get("token_endpoint_auth_method", "client_secret_basic")
    try:
        ctx.metadata = client_metadata(
            client_id=ctx.client_id,
            name=data.get("client_name"),
            public=method == "none",
            redirect_uris=data.get("redirect_uris", []),
            scope=data.get("scope", DEFAULT_SCOPE),
            grant_types=data.get("grant_types"),
            token_endpoint_auth_method=method,
            response_types=data.get("response_types"),
            id_token_signed_response_alg=data.get("id_token_signed_response_alg", "RS256"),
            application_type=data.get("application_type", "web"),
            names=JSON_NAMES,
        )
    except ClientMetadataError as exc:
        raise raised(exc) from None


@check("", "RFC 9700 §2.1.2; RFC 7591 §2", needs=("metadata",))
def no_implicit_registration(ctx: RegistrationContext) -> None:
    """A client registers itself for at least one grant, and not for the implicit one: no
    token in the front channel (RFC 9700 §2.1.2)."""
    assert ctx.metadata is not None
    if not ctx.metadata.grant_types:
        raise InvalidClientMetadata("grant_types: register at least one, e.g. authorization_code")
    extra = ctx.metadata.grant_types - SELF_GRANTS
    if extra:
        raise InvalidClientMetadata(
            f"grant_types: {sorted(extra)[0]} is not offered; use authorization_code "
            "(RFC 9700 §2.1.2)"
        )


@check("", "RFC 7591 §3")
def within_registration_cap(ctx: RegistrationContext) -> None:
    """The sandbox holds fewer self-registered clients than its cap (`max_dynamic_clients`).

    RFC 7591 §3 lets a server refuse registrations at its discretion; the registration
    endpoint needs no authentication, so what it stores is bounded.
    """
    if ctx.registered >= ctx.cap:
        raise AccessDenied(
            f"the sandbox holds {ctx.registered} self-registered clients, its limit; remove "
            "some with `valetkey clients remove` or raise VALETKEY_MAX_DYNAMIC_CLIENTS"
        )


REGISTRATION_CHECKS = Table.of(
    "registration",
    [
        registration_is_json,
        metadata_types,
        metadata_valid,
        no_implicit_registration,
        within_registration_cap,
    ],
)

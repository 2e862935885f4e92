"""The admin API (`/admin`): set up and steer a running sandbox from a test.

Guarded by the admin token (`Authorization: Bearer <token>`), printed at start or set with
VALETKEY_ADMIN_TOKEN; on a non-loopback address the API is off unless a token was set.
Described by the OpenAPI document at /admin/openapi.json.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import asdict
from typing import Any

from valetkey.oauth import strict_json
from valetkey.oauth.client_metadata import (
    DEFAULT_SCOPE,
    ClientMetadataError,
    client_metadata,
    client_secret,
)
from valetkey.oauth.resource_uri import ResourceUriError, canonical_resource
from valetkey.provider import usernames
from valetkey.provider.admin_openapi import OPENAPI
from valetkey.provider.admin_state import Fault
from valetkey.provider.checks import AdminContext
from valetkey.provider.checks.admin_api import ADMIN_CHECKS
from valetkey.provider.core import Provider
from valetkey.provider.errors import OAuthError
from valetkey.provider.http import Request, Response, json_response
from valetkey.provider.keys import rotate
from valetkey.provider.registration import client_record
from valetkey.provider.resources import ResourceError, resource_record, server_client
from valetkey.provider.store.queries import DuplicateError
from valetkey.provider.store.records import Client, Resource


class AdminError(Exception):
    def __init__(self, status: int, description: str, registration_error: str = "") -> None:
        super().__init__(description)
        self.status, self.description = status, description
        self.registration_error = registration_error  # RFC 7591 §3.2.2, for client metadata


def _error(status: int, description: str, registration_error: str = "") -> Response:
    error = {400: "invalid_request", 401: "unauthorized", 404: "not_found", 409: "conflict"}.get(
        status, "error"
    )
    body = {"error": error, "error_description": description}
    if registration_error:
        body["registration_error"] = registration_error
    return json_response(body, status)


def _authorized(provider: Provider, request: Request) -> bool:
    try:
        ADMIN_CHECKS.run(AdminContext(request, provider.admin_token or ""), [])
    except OAuthError:
        return False
    return bool(provider.admin_token)


def _json(request: Request) -> dict[str, Any]:
    """The body as a JSON object: no NaN, no deep nesting, no lone surrogates, no NUL."""
    try:
        data = strict_json.loads_object(request.body or b"{}")
    except ValueError as exc:
        raise AdminError(400, f"the body must be a JSON object ({exc})") from None
    if "\\u0000" in request.body.decode("utf-8", "replace"):
        raise AdminError(400, "the body contains a NUL character")
    return data


Kind = type | tuple[type, ...]


def _kind_name(kind: Kind) -> str:
    kinds = kind if isinstance(kind, tuple) else (kind,)
    names = {"int": "number", "float": "number", "dict": "JSON object", "list": "JSON list"}
    return " or ".join(dict.fromkeys(names.get(k.__name__, k.__name__) for k in kinds))


def _field(data: dict[str, Any], name: str, kind: Kind, default: Any = None) -> Any:
    value = data.get(name, default)
    if value is None and default is None:
        raise AdminError(400, f"{name} is required")
    kinds = kind if isinstance(kind, tuple) else (kind,)
    if not isinstance(value, kinds) or (isinstance(value, bool) and bool not in kinds):
        raise AdminError(400, f"{name} must be a {_kind_name(kind)}")
    return value


def _strings(data: dict[str, Any], field: str, default: list[str]) -> list[str]:
    values = _field(data, field, list, default)
    if len(values) > 100 or not all(isinstance(v, str) and 0 < len(v) <= 2000 for v in values):
        raise AdminError(400, f"{field} is a list of at most 100 strings")
    return list(values)


def guarded(
    handler: Callable[[Provider, Request], Response],
) -> Callable[[Provider, Request], Response]:
    def run(provider: Provider, request: Request) -> Response:
        if not provider.admin_token:
            return _error(404, "the admin API is off: set VALETKEY_ADMIN_TOKEN to use it here")
        if not _authorized(provider, request):
            response = _error(401, "send the admin token: Authorization: Bearer <token>")
            response.headers.append(("www-authenticate", 'Bearer realm="valetkey-admin"'))
            return response
        try:
            return handler(provider, request)
        except AdminError as exc:
            return _error(exc.status, exc.description, exc.registration_error)

    return run


def _last(request: Request) -> str:
    return request.path.rstrip("/").rsplit("/", 1)[-1]


# -- users ------------------------------------------------------------------------------------


def _new_username(provider: Provider, raw: str) -> str:
    """The display form of a new username, refused if it looks like one already taken."""
    try:
        username = usernames.validate(raw)
    except usernames.UsernameError as exc:
        raise AdminError(400, str(exc)) from None
    key = usernames.account_key(username)
    users = provider.store.users()
    taken = next((u for u in users if usernames.account_key(u.username) == key), None)
    if taken is not None:
        raise AdminError(409, f"username {username!r} is taken (it looks like {taken.username!r})")
    return username


def _password(data: dict[str, Any]) -> str:
    password = str(_field(data, "password", str))
    if len(password) > 1024:
        raise AdminError(400, "password has at most 1024 characters")
    return password


def _claims(claims: dict[str, Any]) -> dict[str, Any]:
    if len(json.dumps(claims)) > 16 * 1024:
        raise AdminError(400, "claims take at most 16 KiB as JSON")
    return claims


@guarded
def users(provider: Provider, request: Request) -> Response:
    if request.method == "GET":
        return json_response(
            {
                "users": [
                    {"username": u.username, "sub": u.sub, "claims": u.claims}
                    for u in provider.store.users()
                ]
            }
        )
    data = _json(request)
    username = _new_username(provider, _field(data, "username", str))
    password = _password(data)
    claims = _claims(_field(data, "claims", dict, {}))
    try:
        user = provider.store.add_user(
            username, provider.passwords.hash(password), claims, provider.clock.now()
        )
    except DuplicateError as exc:
        raise AdminError(409, str(exc)) from None
    return json_response({"username": user.username, "sub": user.sub, "claims": user.claims}, 201)


@guarded
def user(provider: Provider, request: Request) -> Response:
    username = usernames.display_form(_last(request))
    found = provider.store.user_by_name(username)
    if found is None:
        raise AdminError(404, f"no user {username!r}")
    if request.method == "DELETE":
        provider.store.remove_user(username, provider.clock.now())
        return Response(204)
    data = _json(request)
    if "password" in data:
        password = _password(data)
        provider.store.set_password_hash(found.id, provider.passwords.hash(password))
    if "claims" in data:
        merged = {**found.claims, **_field(data, "claims", dict)}
        provider.store.set_claims(found.id, _claims(merged))
    updated = provider.store.user_by_name(username)
    assert updated is not None
    return json_response(
        {"username": updated.username, "sub": updated.sub, "claims": updated.claims}
    )


# -- clients ----------------------------------------------------------------------------------


def _client_view(client: Client) -> dict[str, Any]:
    return {
        "client_id": client.client_id,
        "public": client.is_public,
        "name": client.name,
        "redirect_uris": list(client.redirect_uris),
        "scopes": sorted(client.scopes),
        "grants": sorted(client.grant_types),
        "token_endpoint_auth_method": client.token_endpoint_auth_method,
        "response_types": sorted(client.response_types),
        "id_token_alg": client.id_token_signed_response_alg,
        "application_type": client.application_type,
        "origin": client.origin,  # admin, dynamic (RFC 7591) or cimd (a metadata document)
    }


def _optional_strings(data: dict[str, Any], field: str) -> list[str] | None:
    return _strings(data, field, []) if field in data else None


def _new_client(data: dict[str, Any]) -> tuple[Client, str | None]:
    """The client the body registers, by the one set of rules (valetkey.oauth.client_metadata);
    this function only checks the JSON types."""
    client_id = _field(data, "client_id", str)
    public = _field(data, "public", bool, False)
    method = data.get("token_endpoint_auth_method")
    secret = data.get("secret")
    try:
        metadata = client_metadata(
            client_id=client_id,
            name=_field(data, "name", str, client_id),
            public=public,
            redirect_uris=_strings(data, "redirect_uris", []),
            scope=_field(data, "scopes", str, DEFAULT_SCOPE),
            grant_types=_optional_strings(data, "grants"),
            token_endpoint_auth_method=None
            if method is None
            else _field(data, "token_endpoint_auth_method", str),
            response_types=_optional_strings(data, "response_types"),
            id_token_signed_response_alg=_field(data, "id_token_alg", str, "RS256"),
        )
        secret = client_secret(None if secret is None else _field(data, "secret", str), public)
    except ClientMetadataError as exc:
        raise AdminError(400, exc.description, exc.error) from None
    return client_record(metadata, secret), secret


@guarded
def clients(provider: Provider, request: Request) -> Response:
    if request.method == "GET":
        return json_response({"clients": [_client_view(c) for c in provider.store.clients()]})
    client, secret = _new_client(_json(request))
    try:
        provider.store.add_client(client, provider.clock.now())
    except DuplicateError as exc:
        raise AdminError(409, str(exc)) from None
    return json_response({**_client_view(client), "client_secret": secret}, 201)


@guarded
def client(provider: Provider, request: Request) -> Response:
    client_id = _last(request)
    if not provider.store.remove_client(client_id, provider.clock.now()):
        raise AdminError(404, f"no client {client_id!r}")
    return Response(204)


# -- resources (RFC 8707) ---------------------------------------------------------------------

RESOURCE_PATH = "/admin/resources/"


def _resource_view(resource: Resource) -> dict[str, Any]:
    return {
        "uri": resource.uri,
        "name": resource.name,
        "scopes": sorted(resource.scopes),
        "client_id": resource.client_id,
    }


def _new_resource(provider: Provider, data: dict[str, Any]) -> Resource:
    """The resource the body registers, by the rules of `valetkey.provider.resources`; this
    function only checks the JSON types."""
    uri = _field(data, "uri", str)
    scopes = _strings(data, "scopes", [])
    name = _field(data, "name", str) if data.get("name") is not None else None
    client_id = _field(data, "client_id", str) if data.get("client_id") is not None else None
    try:
        client = None
        if client_id is not None:
            client = server_client(provider.store.client(client_id), client_id, "client_id")
        return resource_record(uri, scopes, name, client=client)
    except ResourceError as exc:
        raise AdminError(400, str(exc)) from None


@guarded
def resources(provider: Provider, request: Request) -> Response:
    if request.method == "GET":
        found = provider.store.resources()
        return json_response({"resources": [_resource_view(r) for r in found]})
    resource = _new_resource(provider, _json(request))
    try:
        provider.store.add_resource(resource, provider.clock.now())
    except DuplicateError as exc:
        raise AdminError(409, str(exc)) from None
    return json_response(_resource_view(resource), 201)


@guarded
def resource(provider: Provider, request: Request) -> Response:
    """DELETE /admin/resources/{URI, percent-encoded}: the URI arrives decoded in the path."""
    raw = request.path.split(RESOURCE_PATH, 1)[1]
    try:
        uri = canonical_resource(raw)
    except ResourceUriError as exc:
        raise AdminError(400, f"the resource URI {exc}") from None
    if not provider.store.remove_resource(uri):
        raise AdminError(404, f"no resource {uri!r}")
    return Response(204)


# -- flows ------------------------------------------------------------------------------------

FLOW_ID = re.compile(r"[0-9a-f]{16}")


def _limit(request: Request) -> int:
    raw = request.query.get("limit") or "20"
    if not raw.isdigit() or not 1 <= int(raw) <= 1000:
        raise AdminError(400, "limit is a whole number from 1 to 1000")
    return int(raw)


def _flow_view(flow: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in flow.items() if k != "user_id"}


@guarded
def flows(provider: Provider, request: Request) -> Response:
    """Recent flows, newest first; `client_id` keeps one client's (the inspector's list)."""
    client_id = request.query.get("client_id")
    found = provider.store.flows(_limit(request))
    if client_id is not None:
        found = [f for f in found if f["client_id"] == client_id]
    return json_response({"flows": [_flow_view(f) for f in found]})


@guarded
def flow(provider: Provider, request: Request) -> Response:
    """One flow and its events, as recorded (already redacted: see `provider/flows.py`)."""
    flow_id = _last(request)
    found = provider.store.flow(flow_id) if FLOW_ID.fullmatch(flow_id) else None
    if found is None:
        raise AdminError(404, f"no flow {flow_id!r}; it may have been pruned")
    events = [asdict(e) for e in provider.store.flow_events(flow_id)]
    return json_response({"flow": _flow_view(found), "events": events})


# -- steering ---------------------------------------------------------------------------------


@guarded
def claims(provider: Provider, request: Request) -> Response:
    """Claims for the next token of a user (ID token) or a client (access token)."""
    data = _json(request)
    values = _field(data, "claims", dict)
    reserved = {"iss", "aud", "exp", "iat", "nonce", "at_hash", "jti", "client_id", "cnf"}
    if reserved & set(values):
        raise AdminError(400, f"these claims are set by the sandbox: {sorted(reserved)}")
    if "username" in data:
        provider.admin.queue_claims("user", _field(data, "username", str), values)
    elif "client_id" in data:
        provider.admin.queue_claims("client", _field(data, "client_id", str), values)
    else:
        raise AdminError(400, "name a username or a client_id")
    return json_response({"queued": values})


@guarded
def faults(provider: Provider, request: Request) -> Response:
    data = _json(request)
    path = _field(data, "path", str)
    if len(path) > 2000:
        raise AdminError(400, "path has at most 2000 characters")
    count = _field(data, "count", int, 1)
    status = data.get("status")
    delay = data.get("delay", 0)
    local = path.removeprefix(provider.prefix) if provider.prefix else path
    # a tenant's own admin API is under its prefix: never faultable, or it stays faulted
    if not path.startswith("/") or local.startswith("/admin") or not 1 <= count <= 10_000:
        raise AdminError(400, "path is an endpoint path outside /admin; count from 1 to 10000")
    if status is not None and (not isinstance(status, int) or not 400 <= status <= 599):
        raise AdminError(400, "status is an error status from 400 to 599")
    if not isinstance(delay, int | float) or not 0 <= delay <= 30:
        raise AdminError(400, "delay is from 0 to 30 seconds")
    fault = Fault(path, count, status, float(delay), bool(data.get("malformed", False)))
    provider.admin.inject(fault)
    return json_response(
        {
            "path": path,
            "count": count,
            "status": status,
            "delay": delay,
            "malformed": fault.malformed,
        }
    )


@guarded
def clock(provider: Provider, request: Request) -> Response:
    seconds = _field(_json(request), "advance", (int, float))
    if not 0 <= seconds <= 10 * 365 * 86400:
        raise AdminError(400, "advance is from 0 seconds to ten years")
    provider.clock.advance(float(seconds))
    return json_response({"now": provider.clock.now(), "offset": provider.clock.offset})


@guarded
def rotate_keys(provider: Provider, request: Request) -> Response:
    grace = max(provider.settings.access_token_ttl, 300)
    provider.keys = rotate(provider.store, provider.clock.now(), grace)
    provider.refresh_keys(every=0)
    return json_response(
        {
            "signing": {alg: str(key.kid) for alg, key in provider.keys.signing.items()},
            "published": [k["kid"] for k in provider.keys.jwks["keys"]],
        }
    )


@guarded
def requests_log(provider: Provider, request: Request) -> Response:
    return json_response({"requests": list(provider.admin.requests)})


def openapi(provider: Provider, request: Request) -> Response:
    return json_response({**OPENAPI, "servers": [{"url": provider.issuer}]})

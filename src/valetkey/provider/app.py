"""The ASGI app: routes HTTP to the protocol core and turns its responses back into HTTP.

This is the only module that knows Starlette. It reads bodies with a size limit, parses
parameters keeping duplicates, and makes sure nothing escapes as a 500 with a stack trace:
an unexpected exception is logged with its detail and answered with a short generic error.
"""

from __future__ import annotations

import inspect
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from http.cookies import CookieError, SimpleCookie
from typing import Literal

import anyio
from sqlalchemy.exc import DBAPIError
from starlette.applications import Starlette
from starlette.requests import Request as StarletteRequest
from starlette.responses import Response as StarletteResponse
from starlette.routing import BaseRoute, Mount, Route

from valetkey.provider.core import Provider
from valetkey.provider.endpoints import (
    account,
    admin,
    authorize,
    consent,
    discovery,
    github,
    inspector,
    login,
    logout,
    probe_api,
    resource,
    revocation,
    token,
    userinfo,
)
from valetkey.provider.errors import InvalidRequest
from valetkey.provider.http import MalformedRequest, Params, Request, Response, json_response

log = logging.getLogger("valetkey.provider")

MAX_BODY = 64 * 1024
MAX_URL = 16 * 1024

Handler = Callable[[Provider, Request], Response | Awaitable[Response]]
Kind = Literal["json", "page"]


@dataclass(frozen=True)
class Endpoint:
    path: str
    methods: tuple[str, ...]
    handler: Handler
    kind: Kind


def _static(provider: Provider, request: Request) -> Response:
    return Response(
        200,
        provider.pages.stylesheet,
        [("content-type", "text/css"), ("cache-control", "public, max-age=3600")],
    )


def _home(provider: Provider, request: Request) -> Response:
    return provider.pages.render("home.html", issuer=provider.issuer)


def _account(provider: Provider, request: Request) -> Response:
    notice = (
        "Access revoked. The app's tokens no longer work." if request.query.get("revoked") else ""
    )
    return account.account_page(provider, request, notice)


def _by_method(get: Handler, post: Handler) -> Handler:
    def handler(provider: Provider, request: Request) -> Response | Awaitable[Response]:
        return post(provider, request) if request.method == "POST" else get(provider, request)

    return handler


ENDPOINTS = (
    Endpoint("/", ("GET",), _home, "page"),
    Endpoint("/.well-known/openid-configuration", ("GET",), discovery.discovery, "json"),
    Endpoint("/.well-known/oauth-authorization-server", ("GET",), discovery.discovery, "json"),
    Endpoint("/jwks.json", ("GET",), discovery.jwks, "json"),
    Endpoint("/authorize", ("GET", "POST"), authorize.authorize, "page"),
    Endpoint("/login", ("GET", "POST"), _by_method(login.login_page, login.login_submit), "page"),
    Endpoint(
        "/consent",
        ("GET", "POST"),
        _by_method(consent.consent_page, consent.consent_submit),
        "page",
    ),
    Endpoint("/token", ("GET", "POST", "PUT", "DELETE", "PATCH"), token.token, "json"),
    Endpoint("/userinfo", ("GET", "POST"), userinfo.userinfo, "json"),
    Endpoint("/revoke", ("POST",), revocation.revoke, "json"),
    Endpoint("/introspect", ("POST",), revocation.introspect, "json"),
    Endpoint("/logout", ("GET", "POST"), logout.logout, "page"),
    Endpoint("/account", ("GET",), _account, "page"),
    Endpoint("/account/revoke", ("POST",), account.account_revoke, "page"),
    Endpoint("/api/photos", ("GET",), resource.photos, "json"),
    Endpoint("/api/user", ("GET",), resource.api_user, "json"),
    Endpoint("/static/valetkey.css", ("GET",), _static, "page"),
    Endpoint("/admin/openapi.json", ("GET",), admin.openapi, "json"),
    Endpoint("/admin/users", ("GET", "POST"), admin.users, "json"),
    Endpoint("/admin/users/{username:str}", ("PATCH", "DELETE"), admin.user, "json"),
    Endpoint("/admin/clients", ("GET", "POST"), admin.clients, "json"),
    Endpoint("/admin/clients/{client_id:str}", ("DELETE",), admin.client, "json"),
    Endpoint("/admin/claims", ("POST",), admin.claims, "json"),
    Endpoint("/admin/faults", ("POST",), admin.faults, "json"),
    Endpoint("/admin/clock", ("POST",), admin.clock, "json"),
    Endpoint("/admin/keys/rotate", ("POST",), admin.rotate_keys, "json"),
    Endpoint("/admin/requests", ("GET",), admin.requests_log, "json"),
    Endpoint("/probe/log", ("GET",), probe_api.probe_log, "json"),
    Endpoint("/probe/forge", ("POST",), probe_api.probe_forge, "json"),
    Endpoint("/inspector", ("GET",), inspector.flow_list, "page"),
    Endpoint("/inspector/checks", ("GET",), inspector.check_reference, "page"),
    Endpoint("/inspector/flows/{flow_id:str}.svg", ("GET",), inspector.flow_svg, "page"),
    Endpoint("/inspector/flows/{flow_id:str}", ("GET",), inspector.flow_page, "page"),
    Endpoint("/login/oauth/authorize", ("GET",), github.github_authorize, "page"),
    Endpoint("/login/oauth/access_token", ("POST",), github.github_access_token, "json"),
    Endpoint("/user", ("GET",), github.github_user, "json"),
)


class BodyTooLarge(MalformedRequest):
    pass


async def _read_body(request: StarletteRequest) -> bytes:
    declared = request.headers.get("content-length")
    if declared is not None and (not declared.isdigit() or int(declared) > MAX_BODY):
        raise BodyTooLarge(f"the request body is larger than {MAX_BODY} bytes")
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BODY:
            raise BodyTooLarge(f"the request body is larger than {MAX_BODY} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


def _cookies(header: str) -> dict[str, str]:
    jar: SimpleCookie = SimpleCookie()
    try:
        jar.load(header)
    except CookieError:
        return {}
    return {name: morsel.value for name, morsel in jar.items()}


async def _parse(request: StarletteRequest) -> Request:
    raw_query = request.url.query
    if len(raw_query) > MAX_URL:
        raise MalformedRequest("the URL is too long")
    body = await _read_body(request)
    form = Params()
    headers = {
        k.decode("latin-1").lower(): v.decode("latin-1") for k, v in request.scope["headers"]
    }
    content_type = headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if body and content_type == "application/x-www-form-urlencoded":
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError:
            raise MalformedRequest("the body is not UTF-8") from None
        form = Params.parse(text)
    return Request(
        method=request.method,
        path=request.url.path,
        query=Params.parse(raw_query),
        form=form,
        headers=headers,
        cookies=_cookies(headers.get("cookie", "")),
        raw_query=raw_query,
        body=body,
    )


def _to_starlette(response: Response) -> StarletteResponse:
    out = StarletteResponse(response.body, status_code=response.status)
    out.raw_headers = [(k.encode("latin-1"), v.encode("latin-1")) for k, v in response.headers] + [
        (b"content-length", str(len(response.body)).encode())
    ]
    return out


def _failure(provider: Provider, kind: Kind, status: int, description: str) -> Response:
    if kind == "json":
        if status < 500:
            return json_response(InvalidRequest(description).body(), status)
        code = "temporarily_unavailable" if status == 503 else "server_error"
        return json_response({"error": code, "error_description": description}, status)
    title = "This request could not be read" if status < 500 else "Something went wrong"
    return provider.page_error(title, description, status)


async def _answer(provider: Provider, endpoint: Endpoint, request: StarletteRequest) -> Response:
    if provider.settings.lab:
        provider.lab_log()
    provider.refresh_keys()
    fault = provider.admin.take_fault(request.url.path)
    if fault is not None:  # injected through the admin API
        if fault.delay:
            await anyio.sleep(fault.delay)
        if fault.malformed:
            return Response(200, b"{not json", [("content-type", "application/json")])
        if fault.status is not None:
            return _failure(provider, endpoint.kind, fault.status, "an injected fault")
    try:
        parsed = await _parse(request)
    except BodyTooLarge as exc:
        return _failure(provider, endpoint.kind, 413, str(exc))
    except MalformedRequest as exc:
        return _failure(provider, endpoint.kind, 400, str(exc))
    try:
        result = endpoint.handler(provider, parsed)
        return await result if inspect.isawaitable(result) else result
    except DBAPIError:  # the database is away (restarting, unreachable): try again soon
        log.warning("database unavailable at %s %s", request.method, request.url.path)
        return _failure(provider, endpoint.kind, 503, "The store is unavailable; retry shortly.")
    except Exception:
        log.exception("unexpected error at %s %s", request.method, request.url.path)
        return _failure(provider, endpoint.kind, 500, "An unexpected error happened.")


def _route(provider: Provider, endpoint: Endpoint) -> Route:
    async def asgi_endpoint(request: StarletteRequest) -> StarletteResponse:
        started, at = time.perf_counter(), time.time()
        response = await _answer(provider, endpoint, request)
        provider.admin.log(
            request.method, request.url.path, response.status, at, time.perf_counter() - started
        )
        return _to_starlette(response)

    return Route(endpoint.path, asgi_endpoint, methods=list(endpoint.methods))


def create_app(provider: Provider, tenants: Sequence[Provider] = ()) -> Starlette:
    """The sandbox as an ASGI app for the given provider, and each tenant under its prefix."""
    routes: list[BaseRoute] = [
        Mount(tenant.prefix, routes=[_route(tenant, endpoint) for endpoint in ENDPOINTS])
        for tenant in tenants
    ]
    routes += [_route(provider, endpoint) for endpoint in ENDPOINTS]
    app = Starlette(routes=routes)
    app.state.provider = provider
    return app

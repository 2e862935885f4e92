"""What the auditor knows about web frameworks: request and session objects, routes, and the
calls that answer a request (redirects, response bodies, aborts, logins).

Library API knowledge only (names of functions, methods and attributes), never a guess from
the names people give their variables. Types are short tags on abstract values.
"""

from __future__ import annotations

import re
from typing import Final

REQUEST: Final = "web.request"  # Flask's request proxy, a Django HttpRequest, a Starlette Request

REQUEST_DATA: Final = "web.request-data"  # args/form/GET/POST/query_params/json ...

REQUEST_COOKIES: Final = "web.request-cookies"

REQUEST_HEADERS: Final = "web.request-headers"

SESSION: Final = "web.session"  # flask.session, request.session (Django, Starlette)

FLASK_APP: Final = "flask.Flask"

ASGI_APP: Final = "starlette.App"

REQUEST_PROXIES: Final = frozenset({"flask.request", "quart.request", "bottle.request"})

REQUEST_CLASSES: Final = frozenset(
    {
        "starlette.requests.Request",
        "fastapi.Request",
        "fastapi.requests.Request",
        "django.http.HttpRequest",
        "django.http.request.HttpRequest",
        "django.core.handlers.wsgi.WSGIRequest",
        "flask.Request",
    }
)

SESSION_PROXIES: Final = frozenset({"flask.session", "quart.session"})

REQUEST_DATA_ATTRS: Final = frozenset(
    {
        "args",
        "form",
        "values",
        "json",
        "files",
        "data",
        "GET",
        "POST",
        "FILES",
        "query_params",
        "path_params",
        "view_args",
        "query",  # aiohttp, Bottle
        "body",  # Django's raw body
        "match_info",  # aiohttp
        "params",  # Pyramid, Falcon, Bottle
        "forms",  # Bottle
        "arguments",  # Tornado
        "query_arguments",
        "body_arguments",
    }
)
# Methods of a request (or a Tornado handler) that read one named parameter.
REQUEST_PARAM_METHODS: Final = frozenset(
    {
        "get_param",  # Falcon
        "get_argument",  # Tornado
        "get_query_argument",
        "get_body_argument",
        "get_arguments",
        "get_query_arguments",
        "get_param_as_list",
    }
)
REQUEST_COOKIE_METHODS: Final = frozenset({"get_cookie", "get_cookie_values"})
# Signed cookies, which only the server can set: bound to the browser like a session.
SIGNED_COOKIE_METHODS: Final = frozenset({"get_secure_cookie", "get_signed_cookie"})
REQUEST_HEADER_METHODS: Final = frozenset({"get_header"})
SESSION_ENVIRON_KEYS: Final = frozenset({"beaker.session"})
TORNADO_HANDLER: Final = "tornado.web.RequestHandler"
FALCON_RESPONSE: Final = "falcon.Response"
# Session objects handed out by a function (aiohttp-session).
SESSION_GETTERS: Final = frozenset({"aiohttp_session.get_session", "aiohttp_session.new_session"})

REQUEST_COOKIE_ATTRS: Final = frozenset({"cookies", "COOKIES"})

REQUEST_HEADER_ATTRS: Final = frozenset({"headers", "META", "environ"})

REQUEST_HOST_ATTRS: Final = frozenset(
    {
        "host",
        "host_url",
        "url_root",
        "base_url",
        "url",
        "root_url",
        "root_path",
        "scheme",
        "script_root",
    }
)

# The path of this request on this site: no host, so not an open-redirect source.
REQUEST_PATH_ATTRS: Final = frozenset({"path", "full_path", "path_info", "script_root"})

REQUEST_PATH_METHODS: Final = frozenset({"get_full_path", "get_full_path_info"})

REQUEST_HOST_METHODS: Final = frozenset(
    {"get_host", "build_absolute_uri", "url_for", "route_url", "full_url", "resource_url"}
)

REQUEST_DATA_METHODS: Final = frozenset({"get_json", "body", "form", "json", "post", "get_media"})

# Attributes whose presence identifies a request object (Django/Starlette APIs).
REQUEST_MARKER_ATTRS: Final = frozenset(
    {"GET", "POST", "COOKIES", "META", "query_params", "get_host", "build_absolute_uri"}
)

DJANGO_REQUEST_ATTRS: Final = frozenset(
    {
        "GET",
        "POST",
        "COOKIES",
        "META",
        "FILES",
        "session",
        "headers",
        "user",
        "body",
        "build_absolute_uri",
        "get_host",
        "get_full_path",
        "is_secure",
        "data",
        "query_params",
    }
)

HOST_HEADERS: Final = frozenset(
    {
        "host",
        "x-forwarded-host",
        "x-forwarded-server",
        "http_host",
        "http_x_forwarded_host",
        "forwarded",
        "x-original-host",
    }
)

# Route decorators of Flask, FastAPI/Starlette routers (attribute names of the app/router).
ROUTE_DECORATORS: Final = frozenset(
    {"route", "get", "post", "put", "patch", "delete", "api_route", "websocket"}
)

WEB_FRAMEWORKS: Final = (
    "flask",
    "django",
    "starlette",
    "fastapi",
    "werkzeug",
    "quart",
    "aiohttp",
    "tornado",
    "sanic",
    "litestar",
    "falcon",
    "pyramid",
    "bottle",
    "rest_framework",
)

# Route decorators named by their qualified name (function decorators, not app methods).
ROUTE_DECORATOR_QUALNAMES: Final = (
    "django.views.decorators",
    "django.contrib.auth.decorators",
    "rest_framework.decorators.api_view",
    "pyramid.view.view_config",
    "litestar.get",
    "litestar.post",
    "litestar.route",
    "litestar.handlers",
    "bottle.route",
    "bottle.get",
    "bottle.post",
    "ninja",
)

# FastAPI's security schemes: as a dependency they hand the handler the credential the
# request carried (a bearer token, an API key, basic credentials).
SECURITY_SCHEME: Final = "fastapi.security-scheme"
SECURITY_SCHEMES: Final = frozenset(
    f"fastapi.security.{name}"
    for name in (
        "HTTPBearer",
        "HTTPBasic",
        "HTTPDigest",
        "OAuth2PasswordBearer",
        "OAuth2AuthorizationCodeBearer",
        "OpenIdConnect",
        "APIKeyHeader",
        "APIKeyCookie",
        "APIKeyQuery",
    )
)
DEPENDENCY_MARKERS: Final = frozenset({"Depends", "Security"})

# Calls that register a handler function for a path.
ROUTE_REGISTRATIONS: Final = frozenset(
    {
        "add_get",
        "add_post",
        "add_put",
        "add_patch",
        "add_delete",
        "add_route",
        "add_url_rule",
        "add_view",
        "add_api_route",
        "add_websocket_route",
    }
)
# Base classes of class-based handlers, whose HTTP-method methods are routes.
HANDLER_BASES: Final = frozenset(
    {
        "RequestHandler",
        "View",
        "TemplateView",
        "RedirectView",
        "FormView",
        "APIView",
        "GenericAPIView",
        "ViewSet",
        "MethodView",
        "HTTPMethodView",
        "HTTPEndpoint",
        "Controller",
    }
)
HANDLER_METHODS: Final = frozenset({"get", "post", "put", "patch", "delete", "head"})
RESPONDER: Final = re.compile(r"on_(get|post|put|patch|delete|head)(_\w+)?")

FRAMEWORK_PARAM_TYPES: Final = frozenset(
    {"Request", "Response", "HttpRequest", "BackgroundTasks", "WebSocket", "Session"}
)

REDIRECTS: Final = frozenset(
    {
        "flask.redirect",
        "werkzeug.utils.redirect",
        "django.shortcuts.redirect",
        "django.http.HttpResponseRedirect",
        "django.http.HttpResponsePermanentRedirect",
        "starlette.responses.RedirectResponse",
        "fastapi.responses.RedirectResponse",
        "quart.redirect",
        "sanic.response.redirect",
        "sanic.redirect",
        "aiohttp.web.HTTPFound",
        "aiohttp.web.HTTPSeeOther",
        "aiohttp.web.HTTPTemporaryRedirect",
        "litestar.response.Redirect",
        "litestar.Redirect",
        "pyramid.httpexceptions.HTTPFound",
        "pyramid.httpexceptions.HTTPSeeOther",
        "falcon.HTTPFound",
        "falcon.HTTPSeeOther",
        "falcon.redirects.HTTPFound",
        "falcon.HTTPTemporaryRedirect",
        "bottle.redirect",
    }
)

RESPONSE_BODIES: Final = frozenset(
    {
        "flask.jsonify",
        "flask.make_response",
        "flask.Response",
        "flask.render_template_string",
        "django.http.HttpResponse",
        "django.http.JsonResponse",
        "starlette.responses.JSONResponse",
        "starlette.responses.HTMLResponse",
        "starlette.responses.PlainTextResponse",
        "starlette.responses.Response",
        "fastapi.responses.JSONResponse",
        "fastapi.responses.HTMLResponse",
        "fastapi.responses.PlainTextResponse",
        "fastapi.responses.Response",
        "rest_framework.response.Response",
        "quart.jsonify",
        "quart.make_response",
        "quart.Response",
        "quart.render_template_string",
        "sanic.response.json",
        "sanic.response.html",
        "sanic.response.text",
        "sanic.json",
        "sanic.html",
        "sanic.text",
        "aiohttp.web.json_response",
        "aiohttp.web.Response",
        "litestar.Response",
        "litestar.response.Response",
        "pyramid.response.Response",
        "bottle.template",
        "django.http.HttpResponseBadRequest",
        "django.http.HttpResponseForbidden",
    }
)

URL_SAFE_CHECKERS: Final = frozenset(
    {
        "django.utils.http.url_has_allowed_host_and_scheme",
        "django.utils.http.is_safe_url",
    }
)

URL_BUILDERS_INTERNAL: Final = frozenset({"flask.url_for", "django.urls.reverse"})

LOGIN_CALLS: Final = frozenset(
    {
        "flask_login.login_user",
        "django.contrib.auth.login",
        "flask_login.utils.login_user",
        "quart_auth.login_user",
    }
)
# Calls that hand out the app's own credential for a user (a login, for an API).
OWN_TOKEN_ISSUERS: Final = frozenset(
    {
        "rest_framework_simplejwt.tokens.RefreshToken.for_user",
        "rest_framework_simplejwt.tokens.AccessToken.for_user",
        "flask_jwt_extended.create_access_token",
        "flask_jwt_extended.create_refresh_token",
        "fastapi_jwt_auth.AuthJWT.create_access_token",
        "knox.models.AuthToken.objects.create",
        "rest_framework.authtoken.models.Token.objects.get_or_create",
        "rest_framework.authtoken.models.Token.objects.create",
    }
)
OWN_TOKEN_PACKAGES: Final = ("rest_framework", "knox", "flask_jwt_extended", "ninja_jwt")
OWN_TOKEN_METHODS: Final = (".for_user", ".get_or_create", "create_access_token")

ABORTS: Final = frozenset(
    {
        "flask.abort",
        "werkzeug.exceptions.abort",
        "sys.exit",
        "quart.abort",
        "bottle.abort",
        "sanic.exceptions.abort",
        "aiohttp.web.abort",
    }
)

"""The ASGI app: routes HTTP to the protocol core and turns its responses back into HTTP.

This is the only module that speaks ASGI, directly and without a framework: a framework's
router, request object and middleware cost more per request than the token endpoint's own
work. It reads bodies with a size limit, parses parameters keeping duplicates, and makes
sure nothing escapes as a 500 with a stack trace: an unexpected exception is logged with its
detail and answered with a short generic error. Handlers that touch the store run on its
small thread pool (`StoreWorkers`), never on the event loop.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import re
import threading
import time
from collections.abc import Awaitable, Callable, Coroutine, MutableMapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, Literal, TypeVar

from valetkey.provider import cors
from valetkey.provider.admin_state import Fault
from valetkey.provider.core import Provider
from valetkey.provider.endpoints import (
    account,
    admin,
    authorize,
    consent,
    device,
    discovery,
    github,
    inspector,
    login,
    logout,
    probe_api,
    registration,
    resource,
    revocation,
    token,
    userinfo,
)
from valetkey.provider.errors import InvalidRequest
from valetkey.provider.http import MalformedRequest, Params, Request, Response, json_response
from valetkey.provider.login_throttle import TooManyAttempts
from valetkey.provider.same_origin import same_origin_only
from valetkey.provider.store.driver import StoreError
from valetkey.provider.well_known import is_metadata_path, path_inserted

log = logging.getLogger("valetkey.provider")

MAX_BODY = 64 * 1024
MAX_URL = 16 * 1024

Handler = Callable[[Provider, Request], Response | Awaitable[Response]]
Kind = Literal["json", "page"]
Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]


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
    Endpoint(
        "/login",
        ("GET", "POST"),
        _by_method(login.login_page, same_origin_only(login.login_submit)),
        "page",
    ),
    Endpoint(
        "/consent",
        ("GET", "POST"),
        _by_method(consent.consent_page, same_origin_only(consent.consent_submit)),
        "page",
    ),
    Endpoint("/token", ("GET", "POST", "PUT", "DELETE", "PATCH"), token.token, "json"),
    Endpoint("/userinfo", ("GET", "POST"), userinfo.userinfo, "json"),
    Endpoint("/revoke", ("POST",), revocation.revoke, "json"),
    Endpoint("/register", ("GET", "POST", "PUT", "DELETE"), registration.register, "json"),
    Endpoint("/device_authorization", ("POST",), device.device_authorization, "json"),
    Endpoint("/device", ("GET",), device.device_page, "page"),
    Endpoint("/introspect", ("POST",), revocation.introspect, "json"),
    Endpoint("/logout", ("GET", "POST"), same_origin_only(logout.logout), "page"),
    Endpoint("/account", ("GET",), _account, "page"),
    Endpoint("/account/revoke", ("POST",), same_origin_only(account.account_revoke), "page"),
    Endpoint("/api/photos", ("GET",), resource.photos, "json"),
    Endpoint("/api/user", ("GET",), resource.api_user, "json"),
    Endpoint("/static/valetkey.css", ("GET",), _static, "page"),
    Endpoint("/admin/openapi.json", ("GET",), admin.openapi, "json"),
    Endpoint("/admin/users", ("GET", "POST"), admin.users, "json"),
    Endpoint("/admin/users/{username}", ("PATCH", "DELETE"), admin.user, "json"),
    Endpoint("/admin/clients", ("GET", "POST"), admin.clients, "json"),
    Endpoint("/admin/clients/{client_id}", ("DELETE",), admin.client, "json"),
    Endpoint("/admin/resources", ("GET", "POST"), admin.resources, "json"),
    Endpoint("/admin/resources/{uri*}", ("DELETE",), admin.resource, "json"),
    Endpoint("/admin/flows", ("GET",), admin.flows, "json"),
    Endpoint("/admin/flows/{flow_id}", ("GET",), admin.flow, "json"),
    Endpoint("/admin/claims", ("POST",), admin.claims, "json"),
    Endpoint("/admin/faults", ("POST",), admin.faults, "json"),
    Endpoint("/admin/clock", ("POST",), admin.clock, "json"),
    Endpoint("/admin/keys/rotate", ("POST",), admin.rotate_keys, "json"),
    Endpoint("/admin/requests", ("GET",), admin.requests_log, "json"),
    Endpoint("/probe/log", ("GET",), probe_api.probe_log, "json"),
    Endpoint("/probe/forge", ("POST",), probe_api.probe_forge, "json"),
    Endpoint("/probe/mint", ("POST",), probe_api.probe_mint, "json"),
    Endpoint("/inspector", ("GET",), inspector.flow_list, "page"),
    Endpoint("/inspector/checks", ("GET",), inspector.check_reference, "page"),
    Endpoint("/inspector/checks/{check_id}", ("GET",), inspector.check_entry, "page"),
    Endpoint("/inspector/flows/{flow_id}.svg", ("GET",), inspector.flow_svg, "page"),
    Endpoint("/inspector/flows/{flow_id}", ("GET",), inspector.flow_page, "page"),
    Endpoint("/login/oauth/authorize", ("GET",), github.github_authorize, "page"),
    Endpoint("/login/oauth/access_token", ("POST",), github.github_access_token, "json"),
    Endpoint("/user", ("GET",), github.github_user, "json"),
)


# the handlers that never touch the store; every other one runs in a store worker
LOOP_SAFE: frozenset[Handler] = frozenset(
    {discovery.discovery, discovery.jwks, _static, _home, admin.openapi}
)


class BodyTooLarge(MalformedRequest):
    pass


class ClientGone(Exception):
    """The client disconnected before its request body arrived."""


@dataclass(frozen=True)
class Pattern:
    """A path with one `{name}` segment: PREFIX{name}SUFFIX, the name without a slash; a
    `{name*}` segment may hold slashes (a percent-encoded URI arrives decoded)."""

    prefix: str
    suffix: str
    endpoint: Endpoint
    greedy: bool = False

    def match(self, path: str) -> bool:
        if not (path.startswith(self.prefix) and path.endswith(self.suffix)):
            return False
        middle = path[len(self.prefix) : len(path) - len(self.suffix)]
        return bool(middle) and (self.greedy or "/" not in middle)


class Router:
    """One issuer's endpoints: exact paths in a dict, the few patterns tried in order."""

    def __init__(self, endpoints: Sequence[Endpoint]) -> None:
        self.exact: dict[str, Endpoint] = {}
        self.patterns: list[Pattern] = []
        for endpoint in endpoints:
            if "{" in endpoint.path:
                prefix, rest = endpoint.path.split("{", 1)
                name, suffix = rest.split("}", 1)
                self.patterns.append(Pattern(prefix, suffix, endpoint, name.endswith("*")))
            else:
                self.exact[endpoint.path] = endpoint

    def find(self, path: str) -> Endpoint | None:
        endpoint = self.exact.get(path)
        if endpoint is not None:
            return endpoint
        for pattern in self.patterns:
            if pattern.match(path):
                return pattern.endpoint
        return None


async def _read_body(headers: dict[str, str], receive: Receive) -> bytes:
    declared = headers.get("content-length")
    if declared is not None and (not declared.isdigit() or int(declared) > MAX_BODY):
        raise BodyTooLarge(f"the request body is larger than {MAX_BODY} bytes")
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise ClientGone
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > MAX_BODY:
            raise BodyTooLarge(f"the request body is larger than {MAX_BODY} bytes")
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks)


def cookies(header: str) -> dict[str, str]:
    """A Cookie header's name=value pairs (RFC 6265 §4.2.1, §5.4: "; " between them). A name
    sent twice keeps its first value, the cookie with the longer path (§5.4 step 2); a pair
    without "=", without a name or with a control character (§4.1.1) is skipped, and the
    others are kept."""
    jar: dict[str, str] = {}
    for pair in header.split(";"):
        name, equals, value = pair.partition("=")
        name, value = name.strip(), value.strip()
        if equals and name and name not in jar and not _CONTROL.search(pair):
            jar[name] = value
    return jar


_CONTROL = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")  # a tab is allowed around a pair


def _headers(scope: Scope) -> dict[str, str]:
    return {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}


async def _parse(scope: Scope, headers: dict[str, str], receive: Receive) -> Request:
    raw_query = scope["query_string"].decode("latin-1")
    if len(raw_query) > MAX_URL:
        raise MalformedRequest("the URL is too long")
    body = await _read_body(headers, receive)
    form = Params()
    content_type = headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if body and content_type == "application/x-www-form-urlencoded":
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError:
            raise MalformedRequest("the body is not UTF-8") from None
        form = Params.parse(text)
    return Request(
        method=scope["method"],
        path=scope["path"],
        query=Params.parse(raw_query) if raw_query else Params(),
        form=form,
        headers=headers,
        cookies=cookies(headers.get("cookie", "")),
        raw_query=raw_query,
        body=body,
        peer=str(scope["client"][0]) if scope.get("client") else "",
    )


def _failure(provider: Provider, kind: Kind, status: int, description: str) -> Response:
    if kind == "json":
        if status < 500:
            return json_response(InvalidRequest(description).body(), status)
        code = "temporarily_unavailable" if status == 503 else "server_error"
        return json_response({"error": code, "error_description": description}, status)
    title = "This request could not be read" if status < 500 else "Something went wrong"
    return provider.page_error(title, description, status)


def _handle(
    workers: StoreWorkers,
    provider: Provider,
    handler: Handler,
    request: Request,
    path: str | None,
) -> Response | Fault:
    """In a store worker: the handler in one unit of work. Whatever it writes (a code
    claimed, tokens issued, a grant revoked) and its flow records, written at the end, are
    one transaction, committed before the response goes out. On a shared database the
    request starts by reading what other instances may have changed, and meets the fault
    injected for `path` instead of running the handler (None: a fault was met already)."""
    with provider.store.transaction(), provider.flows.batch():
        fault = provider.admin.start_request(path, provider.clock)
        if fault is not None:
            return fault
        result = handler(provider, request)
        return workers.drive(result) if inspect.iscoroutine(result) else result  # type: ignore[return-value]


async def _meet(provider: Provider, kind: Kind, fault: Fault) -> Response | None:
    """An injected fault: wait its delay, then its answer (None: answer as usual)."""
    if fault.delay:
        await asyncio.sleep(fault.delay)
    if fault.malformed:
        return Response(200, b"{not json", [("content-type", "application/json")])
    if fault.status is not None:
        return _failure(provider, kind, fault.status, "an injected fault")
    return None


async def _in_worker(
    app: SandboxApp, provider: Provider, endpoint: Endpoint, parsed: Request, path: str
) -> Response:
    run = app.workers.run
    result = await run(_handle, app.workers, provider, endpoint.handler, parsed, path)
    if isinstance(result, Fault):  # met as the request started (a shared database)
        answer = await _meet(provider, endpoint.kind, result)
        if answer is not None:
            return answer
        result = await run(_handle, app.workers, provider, endpoint.handler, parsed, None)
    assert isinstance(result, Response)
    return result


def _refresh_keys_soon(provider: Provider, workers: StoreWorkers) -> None:
    """Look for keys another instance rotated, in a worker (a store call never runs on the
    loop); a failure is logged in one line and the next request tries again."""
    if provider.keys_due() and not provider.keys_refreshing:
        provider.keys_refreshing = True

        def refresh() -> None:
            try:
                provider.refresh_keys()
            finally:
                provider.keys_refreshing = False

        workers.submit(quietly(refresh, "looking for new signing keys"))


async def _answer(
    app: SandboxApp,
    provider: Provider,
    endpoint: Endpoint,
    scope: Scope,
    headers: dict[str, str],
    receive: Receive,
) -> Response:
    if provider.settings.lab:
        provider.lab_log()
    _refresh_keys_soon(provider, app.workers)
    path = scope["path"]
    fault = provider.admin.take_fault(path) if provider.admin.faults else None
    if fault is not None:  # injected through the admin API, in this process's memory
        answer = await _meet(provider, endpoint.kind, fault)
        if answer is not None:
            return answer
    try:
        parsed = await _parse(scope, headers, receive)
    except BodyTooLarge as exc:
        return _failure(provider, endpoint.kind, 413, str(exc))
    except MalformedRequest as exc:
        return _failure(provider, endpoint.kind, 400, str(exc))
    try:
        if endpoint.handler not in LOOP_SAFE:
            return await _in_worker(app, provider, endpoint, parsed, path)
        if provider.shared:  # a fault another instance injected is looked up in a worker
            fault = await app.workers.run(provider.admin.start_request, path, provider.clock)
            answer = None if fault is None else await _meet(provider, endpoint.kind, fault)
            if answer is not None:
                return answer
        result = endpoint.handler(provider, parsed)  # no store call: answered on the loop
        return await result if inspect.isawaitable(result) else result
    except TooManyAttempts as exc:  # RFC 6585 §4
        response = _failure(provider, endpoint.kind, 429, f"{exc}; retry in {exc.retry_after} s.")
        response.headers.append(("retry-after", str(exc.retry_after)))
        return response
    except StoreError:  # the database is away (restarting, unreachable): try again soon
        log.warning("database unavailable at %s %s", scope["method"], path)
        return _failure(provider, endpoint.kind, 503, "The store is unavailable; retry shortly.")
    except Exception:
        log.exception("unexpected error at %s %s", scope["method"], path)
        return _failure(provider, endpoint.kind, 500, "An unexpected error happened.")


def _not_found(provider: Provider, path: str) -> Response:
    if is_metadata_path(path):  # a client looking for metadata reads JSON, not a page
        return json_response(
            {
                "error": "not_found",
                "error_description": "no issuer here publishes metadata at this path; "
                "check the issuer URL (a tenant is /tenants/NAME)",
            },
            404,
        )
    return provider.not_found()


def _not_allowed(provider: Provider, endpoint: Endpoint) -> Response:
    allowed = ", ".join(endpoint.methods)
    response = _failure(provider, endpoint.kind, 405, f"this endpoint answers {allowed}")
    response.headers.append(("allow", allowed))
    return response


async def _send(send: Send, response: Response, head_only: bool) -> None:
    raw = [(k.encode("latin-1"), v.encode("latin-1")) for k, v in response.headers]
    raw.append((b"content-length", str(len(response.body)).encode()))
    await send({"type": "http.response.start", "status": response.status, "headers": raw})
    await send({"type": "http.response.body", "body": b"" if head_only else response.body})


class SandboxApp:
    """The ASGI application: the provider at /, each tenant under /tenants/NAME."""

    def __init__(self, provider: Provider, tenants: Sequence[Provider] = ()) -> None:
        self.provider = provider
        self.router = Router(ENDPOINTS)
        self.tenants = {tenant.prefix + "/": tenant for tenant in tenants}
        self.workers = StoreWorkers()

    def _issuer_for(self, path: str) -> tuple[Provider, str]:
        """The issuer a path belongs to and the path within it. A path-inserted metadata
        URI (RFC 8414 §3.1) names the issuer after the well-known part; for no issuer of
        ours, the path is left as it is, which nothing serves (404)."""
        inserted = path_inserted(path) if path.startswith("/.well-known/") else None
        if inserted is not None:
            tenant = self.tenants.get(inserted[0] + "/")
            return (tenant, inserted[1]) if tenant is not None else (self.provider, path)
        if self.tenants and path.startswith("/tenants/"):
            for prefix, tenant in self.tenants.items():
                if path.startswith(prefix):
                    return tenant, path[len(prefix) - 1 :]
        return self.provider, path

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            await self._http(scope, receive, send)
        elif scope["type"] == "lifespan":
            await _lifespan(receive, send)

    async def _http(self, scope: Scope, receive: Receive, send: Send) -> None:
        started, at = time.perf_counter(), time.time()
        provider, local = self._issuer_for(scope["path"])
        endpoint = self.router.find(local)
        method = scope["method"]
        head_only = method == "HEAD"
        if endpoint is None:
            response = _not_found(provider, local)
        elif method == "OPTIONS" and local in cors.CORS_PATHS:  # a CORS preflight
            response = cors.preflight(endpoint.methods)
        elif method not in endpoint.methods and not (head_only and "GET" in endpoint.methods):
            response = _not_allowed(provider, endpoint)
        else:
            try:
                response = await _answer(self, provider, endpoint, scope, _headers(scope), receive)
            except ClientGone:
                return
        if endpoint is not None and local in cors.CORS_PATHS:
            if response.header("access-control-allow-origin") is None:
                response.headers.append(cors.ALLOW_ANY_ORIGIN)
            response.headers.append(cors.EXPOSE)
        provider.admin.log(
            method, scope["path"], response.status, at, time.perf_counter() - started
        )
        await _send(send, response, head_only)


async def _lifespan(receive: Receive, send: Send) -> None:
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await send({"type": "lifespan.shutdown.complete"})
            return


def create_app(provider: Provider, tenants: Sequence[Provider] = ()) -> SandboxApp:
    """The sandbox as an ASGI app for the given provider, and each tenant under its prefix."""
    return SandboxApp(provider, tenants)


# Store work off the event loop: a small pool of threads for the handlers that query the
# database, and the periodic jobs (key refresh, pruning) that never run inside a request. A
# database lock held elsewhere, or a PostgreSQL server that stopped answering, then ties up
# at most these threads, each for at most the store's own timeouts (`store/driver.py`); the
# loop keeps answering discovery, the JWKS and static files, and every other request gets
# its 503 when the store gives up.

STORE_WORKERS = 4  # threads (and connections per store); more only contend for the GIL

T = TypeVar("T")


class StoreWorkers:
    """The threads that run store-bound work; each keeps its own connections and, for a
    handler that awaits (login), its own event loop."""

    def __init__(self, workers: int = STORE_WORKERS) -> None:
        self._pool = ThreadPoolExecutor(workers, thread_name_prefix="valetkey-store")
        self._local = threading.local()

    async def run(self, func: Callable[..., T], *args: Any) -> T:
        """`func(*args)` in a worker thread, awaited from the loop."""
        return await asyncio.get_running_loop().run_in_executor(self._pool, func, *args)

    def submit(self, func: Callable[[], object]) -> Future[object]:
        """Start `func` in a worker and do not wait for it."""
        return self._pool.submit(func)

    def drive(self, coroutine: Coroutine[Any, Any, T]) -> T:
        """In a worker thread: run a handler's coroutine to its end on this thread's loop."""
        loop: asyncio.AbstractEventLoop | None = getattr(self._local, "loop", None)
        if loop is None:
            loop = asyncio.new_event_loop()
            self._local.loop = loop
        return loop.run_until_complete(coroutine)


def quietly(job: Callable[[], object], what: str) -> Callable[[], None]:
    """`job`, with a store failure logged in one line (no traceback): for background work."""

    def run() -> None:
        try:
            job()
        except StoreError as exc:
            log.warning("%s skipped: the store is unavailable (%s)", what, exc)
        except Exception:
            log.exception("%s failed", what)

    return run


class Housekeeper:
    """Runs each job every `every` seconds on a daemon thread until stopped."""

    def __init__(self, jobs: list[Callable[[], None]], every: float) -> None:
        self.jobs = jobs
        self.every = every
        self._stop = threading.Event()
        self._thread = threading.Thread(
            target=self._loop, name="valetkey-housekeeping", daemon=True
        )

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()

    def _loop(self) -> None:
        while not self._stop.wait(self.every):
            for job in self.jobs:
                job()

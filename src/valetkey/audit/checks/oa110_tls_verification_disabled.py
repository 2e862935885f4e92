"""OA110 tls-verification-disabled."""

from __future__ import annotations

import ast
from collections.abc import Iterator

from valetkey.audit import libraries as lib
from valetkey.audit.analysis import Analysis
from valetkey.audit.http_clients import ClientConfig, configuration
from valetkey.audit.index import Scope, kwarg
from valetkey.audit.oauth import (
    http_calls,
    is_back_channel,
    is_plain_http_remote,
    placements,
    url_value,
)
from valetkey.audit.registry import AuditConfig, Hit, check
from valetkey.audit.values import Kind, Value, const_str

from ._helpers import first_line

INSECURE_TRANSPORT = "OAUTHLIB_INSECURE_TRANSPORT"


@check("OA110")
def tls_verification_disabled(module: Analysis, config: AuditConfig) -> Iterator[Hit]:
    """Flags: `verify=False` or an unverified `ssl` context on a requests/httpx call that is
    OAuth traffic (a token request, a call through an OAuth session, a call to a token,
    userinfo, JWKS, discovery, introspection or revocation URL, or one that carries a
    bearer token or client credentials), or on an httpx client used for such calls;
    `OAUTHLIB_INSECURE_TRANSPORT` set from code; a token, userinfo or JWKS endpoint (by its
    library keyword or dict key) that is plain `http://` to a host other than loopback.
    `verify=False` on a call that carries no OAuth traffic is left alone.
    """
    yield from _verify_false(module)
    yield from _insecure_transport(module)
    yield from _plain_http_endpoints(module)


def _is_false(node: ast.expr | None) -> bool:
    return isinstance(node, ast.Constant) and node.value is False


def _verify_false(module: Analysis) -> Iterator[Hit]:
    flagged_ctors: set[int] = set()
    for http in http_calls(module):
        if not is_back_channel(module, http):
            continue
        if _unverified(module, http.call, http.scope):
            yield Hit.at_keyword(
                http.call,
                ("verify", "ssl", "verify_ssl"),
                "TLS certificate verification is off on OAuth traffic",
            )
        client = configuration(module, http.receiver)
        if client is None or id(client.ctor) in flagged_ctors:
            continue
        if _unverified_client(module, client):
            flagged_ctors.add(id(client.ctor))
            yield Hit.at(client.ctor, "this client, used for OAuth traffic, does not verify TLS")


def _unverified(module: Analysis, call: ast.Call, scope: Scope) -> bool:
    """`verify=False` (requests, httpx), `ssl=False` / `verify_ssl=False` (aiohttp), or an
    unverified SSL context, on the call."""
    for name in ("verify", "ssl", "verify_ssl"):
        node = kwarg(call, name)
        if _is_false(node) or (
            node is not None and module.eval(node, scope).type == "ssl.unverified"
        ):
            return True
    return False


def _unverified_client(module: Analysis, client: ClientConfig) -> bool:
    verify = client.setting("verify")
    if _is_false(verify):
        return True
    scope = module.scope_of(client.ctor)
    if verify is not None and module.eval(verify, scope).type == "ssl.unverified":
        return True
    connector = client.setting("connector")  # aiohttp.TCPConnector(ssl=False)
    if isinstance(connector, ast.Call) and _unverified(module, connector, scope):
        return True
    cert_reqs = client.setting("cert_reqs")  # urllib3.PoolManager(cert_reqs="CERT_NONE")
    return cert_reqs is not None and (
        const_str(cert_reqs) == "CERT_NONE"
        or (isinstance(cert_reqs, ast.Attribute) and cert_reqs.attr == "CERT_NONE")
    )


def _insecure_transport(module: Analysis) -> Iterator[Hit]:
    if not module.mentions(INSECURE_TRANSPORT):
        return
    for node in module.nodes:
        if isinstance(node, ast.Assign):
            for target in node.targets:
                if (
                    isinstance(target, ast.Subscript)
                    and const_str(target.slice) == INSECURE_TRANSPORT
                ):
                    yield Hit.at(node, f"{INSECURE_TRANSPORT} allows OAuth over plain http")
        elif isinstance(node, ast.Call):
            qual = module.resolve(node, module.scope_of(node)).qualname or ""
            first = const_str(node.args[0]) if node.args else None
            named = {kw.arg for kw in node.keywords}
            if (qual in ("os.environ.setdefault", "os.putenv") and first == INSECURE_TRANSPORT) or (
                qual == "os.environ.update" and INSECURE_TRANSPORT in named
            ):
                yield Hit.at(node, f"{INSECURE_TRANSPORT} allows OAuth over plain http")


def _plain_http(url: Value) -> bool:
    """The URL, or one of the URLs it may be (`PROVIDERS[name].token_url`), is plain http
    to a host other than loopback."""
    if is_plain_http_remote(url.all_text()):
        return True
    return url.text is None and any(
        "://" in f and f.lower().startswith("http") and is_plain_http_remote(f)
        for f in url.fragments
    )


def _plain_http_endpoints(module: Analysis) -> Iterator[Hit]:
    seen: set[int] = set()
    for p in placements(module):
        if p.key in lib.BACK_CHANNEL_KEYS and is_plain_http_remote(p.value.all_text()):
            lit = first_line(p.value, Kind.LITERAL)
            line = lit.line if lit else int(getattr(p.node, "lineno", 1))
            seen.add(line)
            yield Hit(line, lit.col if lit else 0, "an OAuth back-channel endpoint is plain http")
    for http in http_calls(module):
        if http.client_type in lib.OAUTH_SESSIONS and http.method == "fetch_token":
            url = module.eval(http.call.args[0], http.scope) if http.call.args else None
        else:
            url = url_value(module, http.call, http.scope, http.method)
        if url is None or not _plain_http(url):
            continue
        if is_back_channel(module, http):
            literals = url.of(Kind.LITERAL)
            lit = literals[0] if len({o.line for o in literals}) == 1 else None
            line = lit.line if lit else http.call.lineno
            if line not in seen:
                seen.add(line)
                yield Hit(line, lit.col if lit else 0, "an OAuth back-channel call uses plain http")

"""Each variant an AS check tries is one a careless server can get wrong: for every variant
added to a check, a test double (a proxy in front of the strict sandbox that breaks exactly
that rule) makes the check fail with that variant's reason, while the strict sandbox passes
it (tests/e2e/test_probe_server.py)."""

from __future__ import annotations

import base64
import re
from collections.abc import Iterator
from urllib.parse import unquote

import pytest

from tests.support.asgi_server import AsgiServer
from tests.support.careless_proxy import Answer, Incoming, Outgoing, Rewrite, careless_proxy
from tests.support.sandbox import Sandbox, start_sandbox
from valetkey.client.server import free_socket
from valetkey.probe.report import Result
from valetkey.probe.server import run_server_probe
from valetkey.probe.session import Target

REDIRECT = "http://127.0.0.1:8500/callback"
EVIL = "https://evil.example/cb"
SCOPE = "openid profile photos.read offline_access"
PUBLIC = "probe-public"
UNKNOWN = "valetkey_probe_unknown"


class Careless:
    """The strict sandbox behind one long-lived proxy, whose issuer is the proxy's URL (so
    what the sandbox signs names the server the probe talks to); each test sets what the
    proxy breaks."""

    def __init__(self, sandbox: Sandbox, proxy: AsgiServer) -> None:
        self.sandbox, self.proxy = sandbox, proxy
        self.rewrite: Rewrite = _keep
        self.answer: Answer = _same

    def probe(self, *checks: str) -> list[Result]:
        target = Target(
            self.proxy.url,
            "photo-printer",
            REDIRECT,
            self.sandbox.secret,
            PUBLIC,
            "alice",
            self.sandbox.password("alice"),
            SCOPE,
        )
        return run_server_probe(target, only=list(checks)).results


@pytest.fixture(scope="module")
def careless(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Careless]:
    sock = free_socket()
    issuer = f"http://127.0.0.1:{sock.getsockname()[1]}"
    sandbox = start_sandbox(tmp_path_factory.mktemp("variants"), "--issuer", issuer)
    sandbox.add_client(PUBLIC, None, (REDIRECT,), scopes=SCOPE)
    holder: list[Careless] = []
    app = careless_proxy(
        sandbox.url,
        lambda request: holder[0].rewrite(request),
        lambda request, answer: holder[0].answer(request, answer),
    )
    proxy = AsgiServer(app, sock).start()
    holder.append(Careless(sandbox, proxy))
    yield holder[0]
    proxy.stop()
    sandbox.stop()


def _basic(sandbox: Sandbox) -> str:
    pair = f"photo-printer:{sandbox.secret}".encode()
    return "Basic " + base64.b64encode(pair).decode()


def _keep(request: Outgoing) -> Outgoing | Incoming:
    return request


def _same(request: Outgoing, answer: Incoming) -> Incoming:
    return answer


def _token_request(request: Outgoing, grant_type: str) -> bool:
    return request.path == "/token" and request.get("grant_type") == grant_type


# -- one careless server per variant ---------------------------------------------------------


def _decoding_redirect_uri() -> tuple[Rewrite, Answer]:
    """AS-08: compares redirect URIs after decoding %XX of unreserved characters, and sends
    the browser to the URI as the request spelled it."""
    sent: dict[str, str] = {}

    def rewrite(request: Outgoing) -> Outgoing | Incoming:
        uri = request.get("redirect_uri")
        if request.path == "/authorize" and uri and re.search(r"%[0-9A-F]{2}", uri):
            decoded = re.sub(
                r"%([0-9A-F]{2})",
                lambda m: c if (c := unquote(m.group(0))).isalnum() else m.group(0),
                uri,
            )
            sent[decoded] = uri
            request.set_query("redirect_uri", decoded)
        return request

    def answer(request: Outgoing, incoming: Incoming) -> Incoming:
        location = incoming.header("location") or ""
        for decoded, original in sent.items():
            if location.startswith(decoded + "?"):
                return incoming.with_location(original + location[len(decoded) :])
        return incoming

    return rewrite, answer


def _errors_to_any_uri(error: str) -> tuple[Rewrite, Answer]:
    """AS-10: validates the redirect URI except for one kind of error, which it sends to
    the URI the request named."""
    swapped = {"on": False}

    def rewrite(request: Outgoing) -> Outgoing | Incoming:
        if request.path == "/authorize":
            swapped["on"] = request.get("redirect_uri") == EVIL
            if swapped["on"]:
                request.set_query("redirect_uri", REDIRECT)
        return request

    def answer(request: Outgoing, incoming: Incoming) -> Incoming:
        location = incoming.header("location") or ""
        if swapped["on"] and location.startswith(REDIRECT) and f"error={error}" in location:
            return incoming.with_location(EVIL + location[len(REDIRECT) :])
        return incoming

    return rewrite, answer


def _no_redirect_uri_needed(sandbox: Sandbox) -> tuple[Rewrite, Answer]:
    """AS-11: redeems a code sent without its redirect_uri."""

    def rewrite(request: Outgoing) -> Outgoing | Incoming:
        if _token_request(request, "authorization_code") and request.get("redirect_uri") is None:
            request.set_form("redirect_uri", REDIRECT)
        return request

    return rewrite, _same


def _refresh_never_revoked(sandbox: Sandbox) -> tuple[Rewrite, Answer]:
    """AS-16: revokes the access token of a replayed code, never its refresh token."""

    def rewrite(request: Outgoing) -> Outgoing | Incoming:
        if _token_request(request, "refresh_token"):
            body = b'{"access_token": "x", "token_type": "Bearer", "expires_in": 60}'
            return Incoming(200, [("content-type", "application/json")], body)
        return request

    return rewrite, _same


def _hybrid_token(sandbox: Sandbox) -> tuple[Rewrite, Answer]:
    """AS-21: serves response_type=code id_token token, access token in the fragment."""
    hybrid = {"on": False}

    def rewrite(request: Outgoing) -> Outgoing | Incoming:
        if request.path == "/authorize" and request.get("response_type") == "code id_token token":
            hybrid["on"] = True
            request.set_query("response_type", "code")
        return request

    def answer(request: Outgoing, incoming: Incoming) -> Incoming:
        location = incoming.header("location") or ""
        if hybrid["on"] and location.startswith(REDIRECT) and "code=" in location:
            hybrid["on"] = False
            return incoming.with_location(location + "#access_token=leaked&token_type=Bearer")
        return incoming

    return rewrite, answer


def _refuses_unknown_parameters(sandbox: Sandbox) -> tuple[Rewrite, Answer]:
    """AS-24: refuses a token request carrying a parameter it does not know."""

    def rewrite(request: Outgoing) -> Outgoing | Incoming:
        if request.path == "/token" and request.get(UNKNOWN) is not None:
            body = b'{"error": "invalid_request"}'
            return Incoming(400, [("content-type", "application/json")], body)
        return request

    return rewrite, _same


def _as_the_confidential_client(path: str, grant_type: str | None) -> Rewrite:
    """Takes the public client's request as the confidential client's (no client binding)."""

    def rewrite(request: Outgoing) -> Outgoing | Incoming:
        matches = request.path == path and request.get("client_id") == PUBLIC
        if matches and (grant_type is None or request.get("grant_type") == grant_type):
            request.set_form("client_id", None)
            request.headers["authorization"] = BASIC["value"]
        return request

    return rewrite


BASIC = {"value": ""}


def _refresh_unbound(sandbox: Sandbox) -> tuple[Rewrite, Answer]:
    """AS-26: lets any client use a refresh token."""
    BASIC["value"] = _basic(sandbox)
    return _as_the_confidential_client("/token", "refresh_token"), _same


def _revokes_for_anyone(sandbox: Sandbox) -> tuple[Rewrite, Answer]:
    """AS-40: lets any client revoke any token."""
    BASIC["value"] = _basic(sandbox)
    return _as_the_confidential_client("/revoke", None), _same


def _bad_id_token_signature(sandbox: Sandbox) -> tuple[Rewrite, Answer]:
    """AS-31: ID tokens whose signature is not the key's (header and claims right)."""

    def answer(request: Outgoing, incoming: Incoming) -> Incoming:
        if request.path != "/token" or incoming.status != 200:
            return incoming
        data = incoming.json()
        if isinstance(data.get("id_token"), str):
            head, body, signature = str(data["id_token"]).split(".")
            flipped = "A" if signature[0] != "A" else "B"
            data["id_token"] = f"{head}.{body}.{flipped}{signature[1:]}"
        return incoming.with_json(data)

    return _keep, answer


def _page_headers_dropped(path: str, status: int, *names: str) -> tuple[Rewrite, Answer]:
    """AS-33/34: one page (by path and status) without some of its protective headers."""

    def answer(request: Outgoing, incoming: Incoming) -> Incoming:
        if request.path == path and request.method == "GET" and incoming.status == status:
            return incoming.without(*names)
        return incoming

    return _keep, answer


def _scope_upgrades(grant_type: str) -> tuple[Rewrite, Answer]:
    """AS-43: grants the scope the token request asks for, whatever the user granted."""
    asked: dict[str, str] = {}

    def rewrite(request: Outgoing) -> Outgoing | Incoming:
        scope = request.get("scope")
        if _token_request(request, grant_type) and scope and "unregistered" not in scope:
            asked["scope"] = scope
            request.set_form("scope", None)
        return request

    def answer(request: Outgoing, incoming: Incoming) -> Incoming:
        if "scope" in asked and incoming.status == 200 and request.path == "/token":
            return incoming.with_json({**incoming.json(), "scope": asked.pop("scope")})
        return incoming

    return rewrite, answer


def _metadata_documents_differ(sandbox: Sandbox) -> tuple[Rewrite, Answer]:
    """AS-01: the RFC 8414 document names another token endpoint than OIDC discovery."""

    def answer(request: Outgoing, incoming: Incoming) -> Incoming:
        if request.path == "/.well-known/oauth-authorization-server":
            data = incoming.json()
            return incoming.with_json({**data, "token_endpoint": f"{data['issuer']}/token2"})
        return incoming

    return _keep, answer


def _codes_unbound(sandbox: Sandbox) -> tuple[Rewrite, Answer]:
    """AS-19 the other way round: a code issued to the public client is redeemed by the
    confidential one (the server remembers whose code it is, then forgets to compare)."""
    owner: dict[str, str] = {"flow": ""}

    def rewrite(request: Outgoing) -> Outgoing | Incoming:
        if request.path == "/authorize":
            owner["flow"] = request.get("client_id") or ""
        code = request.get("code")
        if _token_request(request, "authorization_code") and owner.get(code or "") == PUBLIC:
            request.headers.pop("authorization", None)
            request.set_form("client_id", PUBLIC)
        return request

    def answer(request: Outgoing, incoming: Incoming) -> Incoming:
        found = re.search(r"[?&]code=([^&#]+)", incoming.header("location") or "")
        if found:
            owner[unquote(found.group(1))] = owner["flow"]
        return incoming

    return rewrite, answer


def _short_refresh_tokens(sandbox: Sandbox) -> tuple[Rewrite, Answer]:
    """AS-20: refresh tokens of a few guessable characters."""
    issued = {"n": 0}

    def answer(request: Outgoing, incoming: Incoming) -> Incoming:
        if request.path == "/token" and incoming.status == 200:
            data = incoming.json()
            if "refresh_token" in data:
                issued["n"] += 1
                return incoming.with_json({**data, "refresh_token": f"rt-{issued['n']}"})
        return incoming

    return _keep, answer


def _refresh_response_cacheable(sandbox: Sandbox) -> tuple[Rewrite, Answer]:
    """AS-25: the refresh grant's response may be cached."""

    def answer(request: Outgoing, incoming: Incoming) -> Incoming:
        if _token_request(request, "refresh_token"):
            return incoming.without("cache-control")
        return incoming

    return _keep, answer


def _unknown_response_type_is_code(sandbox: Sandbox) -> tuple[Rewrite, Answer]:
    """AS-39: a response_type it does not know is taken for code."""

    def rewrite(request: Outgoing) -> Outgoing | Incoming:
        if request.path == "/authorize" and request.get("response_type") == "valetkey-bogus":
            request.set_query("response_type", "code")
        return request

    return rewrite, _same


# -- the checks fail on them -----------------------------------------------------------------

CASES = [
    (
        "AS-01",
        _metadata_documents_differ,
        "the two metadata documents disagree on token_endpoint",
    ),
    ("AS-19", _codes_unbound, "the probe client redeemed the second client's code"),
    ("AS-20", _short_refresh_tokens, "refresh tokens carry about 21 bits"),
    ("AS-25", _refresh_response_cacheable, "the refresh response lacks Cache-Control: no-store"),
    (
        "AS-39",
        _unknown_response_type_is_code,
        "a request with an unknown response_type got a code",
    ),
    ("AS-08", lambda s: _decoding_redirect_uri(), "1 near-miss redirect URI(s) accepted"),
    (
        "AS-10",
        lambda s: _errors_to_any_uri("invalid_scope"),
        "an error for a bad scope was redirected to an unvalidated redirect_uri",
    ),
    (
        "AS-10",
        lambda s: _errors_to_any_uri("unsupported_response_type"),
        "an error for a bad response_type was redirected to an unvalidated redirect_uri",
    ),
    (
        "AS-10",
        lambda s: _errors_to_any_uri("access_denied"),
        "a denial was redirected to an unvalidated redirect_uri",
    ),
    (
        "AS-11",
        _no_redirect_uri_needed,
        "the token endpoint redeemed the code without its redirect_uri",
    ),
    ("AS-16", _refresh_never_revoked, "the refresh token from a replayed code still works"),
    ("AS-21", _hybrid_token, "a token came back in the front channel"),
    (
        "AS-24",
        _refuses_unknown_parameters,
        "a token request with an unknown parameter was refused (RFC 6749 §3.2: ignore it)",
    ),
    ("AS-26", _refresh_unbound, "another client used the refresh token"),
    ("AS-31", _bad_id_token_signature, "the signature does not verify with the JWKS key"),
    (
        "AS-33",
        lambda s: _page_headers_dropped(
            "/consent", 200, "x-frame-options", "content-security-policy"
        ),
        "the consent page can be framed",
    ),
    (
        "AS-33",
        lambda s: _page_headers_dropped(
            "/authorize", 400, "x-frame-options", "content-security-policy"
        ),
        "the authorization endpoint's page can be framed",
    ),
    (
        "AS-34",
        lambda s: _page_headers_dropped("/consent", 200, "referrer-policy"),
        "the consent page sets no Referrer-Policy",
    ),
    (
        "AS-34",
        lambda s: _page_headers_dropped("/authorize", 400, "referrer-policy"),
        "the authorization endpoint's page sets no Referrer-Policy",
    ),
    ("AS-40", _revokes_for_anyone, "another client revoked the probe client's token"),
    (
        "AS-43",
        lambda s: _scope_upgrades("authorization_code"),
        "the token endpoint widened the scope the user granted with the code",
    ),
    (
        "AS-43",
        lambda s: _scope_upgrades("refresh_token"),
        "a refresh widened the scope to registered scopes never granted",
    ),
]


@pytest.mark.slow
@pytest.mark.parametrize(
    ("check", "breaks", "reason"), CASES, ids=[f"{c[0]}-{c[2][:40]}" for c in CASES]
)
def test_each_added_variant_fails_a_server_that_breaks_it(
    careless: Careless, check: str, breaks: object, reason: str
) -> None:
    careless.rewrite, careless.answer = breaks(careless.sandbox)  # type: ignore[operator]
    (result,) = careless.probe(check)
    assert (result.id, result.status, result.reason) == (check, "fail", reason)


def test_the_proxy_breaking_nothing_fails_nothing(careless: Careless) -> None:
    """The control: through the same proxy, breaking nothing, every one of these passes."""
    careless.rewrite, careless.answer = _keep, _same
    checks = sorted({c[0] for c in CASES})
    assert [(r.id, r.status) for r in careless.probe(*checks)] == [(c, "pass") for c in checks]

"""The live checks of an authorization server (the AS ids of the check catalogue).

Each check is a function of a `ProbeSession` that returns a `Result`; `SERVER_CHECKS` lists
them in order. A check that needs something the probe was not given (a login, a public
client, an endpoint) answers n/a and says what was missing.
"""

from __future__ import annotations

import concurrent.futures
import functools
import math
import re
import secrets
from collections.abc import Callable
from typing import Any, Literal
from urllib.parse import urlsplit

import httpx
from joserfc import jws
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

from valetkey import catalogue
from valetkey.oauth.base64url import left_half_hash
from valetkey.oauth.jose import MalformedJwt, unverified_claims, unverified_header
from valetkey.oauth.pkce import s256
from valetkey.probe.dpop import DpopKey
from valetkey.probe.report import Result, failed, not_applicable, passed
from valetkey.probe.session import Grant, ProbeError, ProbeSession
from valetkey.useragent.agent import UserAgent
from valetkey.useragent.forms import Form, allow_button, deny_button, parse_forms

Check = Callable[[ProbeSession], Result]
SERVER_CHECKS: list[tuple[str, Check]] = []
NEEDS_LOGIN = "needs --username and --password to drive a login"


Needs = Literal["nothing", "metadata", "login"]


def server_check(check_id: str, needs: Needs = "nothing") -> Callable[[Check], Check]:
    """Register a check under its catalogue id (an unknown id fails at import); one that
    needs the metadata or a login is n/a without them."""

    def register(func: Check) -> Check:
        catalogue.require(check_id, catalogue.Family.AS, f"probe server check {func.__name__}")

        @functools.wraps(func)
        def guarded(s: ProbeSession) -> Result:
            if needs != "nothing" and not s.meta:
                return not_applicable(check_id, "no metadata")
            if needs == "login" and not s.can_log_in():
                return not_applicable(check_id, NEEDS_LOGIN)
            return func(s)

        SERVER_CHECKS.append((check_id, guarded))
        return guarded

    return register


def _redirected_to(response: httpx.Response, uri: str) -> bool:
    location = response.headers.get("location", "")
    return response.is_redirect and location.startswith(uri)


def _is_error(stopped: str | None, response: httpx.Response) -> bool:
    """Refused: an error page, or an error sent back to the registered redirect URI."""
    if stopped is None:
        return response.status_code >= 400 or "code=" not in str(response.url)
    return "error=" in stopped and "code=" not in stopped


@server_check("AS-01")
def discovery(s: ProbeSession) -> Result:
    if not s.meta:
        return failed("AS-01", "no metadata at either well-known path")
    issuer = s.target.issuer.rstrip("/")
    if s.meta.get("issuer") != issuer:
        return failed("AS-01", f"metadata issuer {s.meta.get('issuer')!r} is not {issuer!r}")
    other = s.http.get(issuer + "/.well-known/oauth-authorization-server")
    if other.status_code == 200 and other.json().get("issuer") != issuer:
        return failed("AS-01", "the two metadata documents disagree on the issuer", other)
    if other.status_code == 200:
        theirs = other.json()
        differ = [k for k in AGREED if k in s.meta and theirs.get(k) != s.meta[k]]
        if differ:
            return failed("AS-01", f"the two metadata documents disagree on {differ[0]}", other)
    return passed("AS-01", "metadata served; issuer exact; both documents agree")


# what both metadata documents must say alike (RFC 8414 §3; OIDC Discovery §4)
AGREED = (
    "authorization_endpoint",
    "token_endpoint",
    "jwks_uri",
    "userinfo_endpoint",
    "revocation_endpoint",
    "introspection_endpoint",
)


@server_check("AS-02")
def https(s: ProbeSession) -> Result:
    urls = [v for k, v in s.meta.items() if k.endswith("_endpoint") or k == "jwks_uri"]
    plain = [u for u in urls if isinstance(u, str) and u.startswith("http://")]
    if plain and not s.loopback:
        return failed("AS-02", f"plain http endpoints: {', '.join(plain[:3])}")
    return passed("AS-02", "loopback sandbox: http allowed (note)" if plain else "all https")


@server_check("AS-03")
def pkce_s256_only(s: ProbeSession) -> Result:
    methods = s.meta.get("code_challenge_methods_supported") or []
    if "S256" not in methods or "plain" in methods:
        return failed("AS-03", f"code_challenge_methods_supported is {methods!r}")
    if not s.can_log_in():
        return passed("AS-03", "metadata lists S256 only (plain not tried: " + NEEDS_LOGIN + ")")
    verifier = secrets.token_urlsafe(48)
    # the attack itself: the probe sends what a server must refuse
    method = "plain"
    params, _ = s.params(code_challenge=verifier, code_challenge_method=method)  # valetkey: ignore

    stopped, response = s.front(params)
    if not _is_error(stopped, response):
        return failed("AS-03", "code_challenge_method=plain was accepted", response)
    return passed("AS-03", "S256 only; plain refused")


@server_check("AS-04", needs="login")
def verifier_required(s: ProbeSession) -> Result:
    for verifier in (None, secrets.token_urlsafe(48)):
        grant = s.code()
        answer = s.redeem(grant, code_verifier=verifier)
        if answer.status_code == 200:
            what = "without a code_verifier" if verifier is None else "with a wrong verifier"
            return failed("AS-04", f"a code issued with a challenge was redeemed {what}", answer)
    return passed("AS-04", "missing and wrong verifiers refused")


@server_check("AS-05", needs="login")
def no_downgrade(s: ProbeSession) -> Result:
    try:
        grant = s.code(pkce=False)
    except ProbeError:
        return passed("AS-05", "no code is issued without a challenge, so no downgrade")
    answer = s.redeem(grant, code_verifier=secrets.token_urlsafe(48))
    if answer.status_code == 200:
        return failed("AS-05", "a code issued without a challenge took a verifier", answer)
    return passed("AS-05", "verifier on a code without challenge refused")


@server_check("AS-06", needs="login")
def pkce_required(s: ProbeSession) -> Result:
    client = s.target.public_client_id or s.target.client_id
    kind = "public" if s.target.public_client_id else "confidential"
    try:  # the control: with PKCE this client does get a code
        s.code(client_id=client)
    except ProbeError as exc:
        return not_applicable("AS-06", f"the {kind} client gets no code even with PKCE: {exc}")
    params, _ = s.params(pkce=False, client_id=client)
    stopped, response = s.front(params)
    if not _is_error(stopped, response):
        return failed("AS-06", f"a {kind} client got a code without PKCE", response)
    return passed("AS-06", f"the {kind} client's request without code_challenge is refused")


@server_check("AS-07", needs="login")
def short_verifier(s: ProbeSession) -> Result:
    short = "s" * 42
    try:
        grant = s.code(code_challenge=s256(short))
    except ProbeError as exc:
        return not_applicable("AS-07", f"could not get a code: {exc}")
    answer = s.redeem(grant, code_verifier=short)
    if answer.status_code == 200:
        return failed("AS-07", "a 42-character code_verifier was accepted", answer)
    return passed("AS-07", "a 42-character verifier is refused")


def near_misses(uri: str) -> list[str]:
    parts = urlsplit(uri)
    host, port, path = parts.hostname or "", parts.port, parts.path or "/"
    other_port = (port or 80) + 1
    netloc = parts.netloc
    return [
        f"{uri}?x=1",
        f"{uri}/extra",
        f"{uri}/../x",
        f"{uri}x",
        f"{uri}/",
        uri.replace(netloc, f"{host}:{other_port}", 1),
        uri.replace(parts.scheme + "://", "https://" if parts.scheme == "http" else "http://", 1),
        uri.replace(host, host.upper(), 1) if host.upper() != host else f"{uri}#x",
        uri.replace(path, path.replace("/", "/%2F", 1), 1) if path != "/" else f"{uri}%2F",
        uri.replace(path, _encode_last(path), 1) if path.rstrip("/") else f"{uri}%7E",
        f"{parts.scheme}://{netloc}@evil.example{path}",
        f"{parts.scheme}://evil.example{path}",
    ]


def _encode_last(path: str) -> str:
    """The path with its last letter or digit percent-encoded: the same resource for RFC
    3986 §6.2.2.2, a different string for exact matching (RFC 9700 §4.1.3)."""
    index = (
        max(i for i, c in enumerate(path) if c.isalnum())
        if any(c.isalnum() for c in path)
        else len(path) - 1
    )
    return f"{path[:index]}%{ord(path[index]):02X}{path[index + 1 :]}"


def _accepts(s: ProbeSession, redirect_uri: str) -> httpx.Response | None:
    """The answer that sent the browser to this redirect URI, if the server did that,
    after any login or consent forms it showed first."""
    params, _ = s.params(redirect_uri=redirect_uri)
    stopped, response = s.front(params)
    if stopped is not None and stopped.startswith(redirect_uri):
        return response
    return None


@server_check("AS-08", needs="login")
def redirect_exact(s: ProbeSession) -> Result:
    s.code()  # logged in and consented, so a vulnerable server would answer silently
    accepted = [r for uri in near_misses(s.target.redirect_uri) if (r := _accepts(s, uri))]
    if accepted:
        return failed("AS-08", f"{len(accepted)} near-miss redirect URI(s) accepted", *accepted)
    return passed("AS-08", f"{len(near_misses(s.target.redirect_uri))} near misses refused")


def _leaves(s: ProbeSession, params: dict[str, str]) -> httpx.Response | None:
    """The answer that sent the browser off the provider (login and consent driven through
    when the probe can log in), or None when it stayed (an error page)."""
    if s.can_log_in():
        stopped, response = s.front(params)
        return response if stopped is not None else None
    response = s.http.get(s.authorize_url(params))
    return response if response.is_redirect else None


@server_check("AS-09", needs="metadata")
def unknown_client_page(s: ProbeSession) -> Result:
    unknown, _ = s.params(client_id="valetkey-probe-unknown")
    unregistered, _ = s.params(redirect_uri="https://evil.example/cb")
    bad = [r for params in (unknown, unregistered) if (r := _leaves(s, params)) is not None]
    if bad:
        return failed("AS-09", "an invalid client_id or redirect_uri led to a redirect", *bad)
    return passed("AS-09", "error page, no redirect")


EVIL_REDIRECT = "https://evil.example/cb"
ERROR_KINDS = (  # what is wrong, the parameter, its wrong value
    ("a bad scope", "scope", "valetkey-no-such-scope"),
    ("a bad response_type", "response_type", "valetkey-bogus"),
)


@server_check("AS-10", needs="metadata")
def errors_not_redirected_to_bad_uri(s: ProbeSession) -> Result:
    """Each error kind on its own (a server may validate the redirect URI for one kind of
    error and not another): a bad scope, a bad response_type, and the user's denial."""
    for kind, name, value in ERROR_KINDS:
        params, _ = s.params(redirect_uri=EVIL_REDIRECT)
        params[name] = value
        response = _leaves(s, params)
        if response is not None and "evil.example" in response.headers.get("location", ""):
            return failed(
                "AS-10",
                f"an error for {kind} was redirected to an unvalidated redirect_uri",
                response,
            )
    if not s.can_log_in():
        return passed(
            "AS-10",
            "bad scope and response_type shown, not redirected (denial "
            "not tried: " + NEEDS_LOGIN + ")",
        )
    denied = _denied(s, EVIL_REDIRECT)
    if denied is not None and "evil.example" in denied.headers.get("location", ""):
        return failed("AS-10", "a denial was redirected to an unvalidated redirect_uri", denied)
    return passed("AS-10", "bad scope, bad response_type and denial: shown, not redirected")


def _denied(s: ProbeSession, redirect_uri: str) -> httpx.Response | None:
    """The answer to pressing "deny" on the consent page a request with this redirect URI
    led to, or None when no consent page came."""
    assert s.agent is not None
    page = _consent_page(s, redirect_uri)
    form = _consent_form(page) if page is not None else None
    button = deny_button(form) if form is not None else None
    if form is None or button is None:
        return None
    data = [*form.fields(), *([(button.name, button.value)] if button.name else [])]
    return s.agent.http.request(form.method, form.action, data=dict(data))


def _consent_page(s: ProbeSession, redirect_uri: str) -> httpx.Response | None:
    """The consent page the logged-in browser gets for a request with this redirect URI
    (prompt=consent: asked again though the user consented), or None if none came."""
    assert s.agent is not None
    s.code()  # logged in, so the next page is consent, not login
    params, _ = s.params(redirect_uri=redirect_uri, prompt="consent")
    response = s.agent.http.get(s.authorize_url(params))
    for _ in range(10):
        if not response.is_redirect:
            return response if _consent_form(response) is not None else None
        target = response.url.join(response.headers["location"])
        if _origin_of(target) != _origin_of(response.url):
            return None
        response = s.agent.http.get(target)
    return None


def _origin_of(url: httpx.URL) -> tuple[str, str, int | None]:
    return url.scheme, url.host, url.port


def _consent_form(page: httpx.Response) -> Form | None:
    """The page's consent form: one with an allow button and no password field."""
    if "html" not in page.headers.get("content-type", ""):
        return None
    forms = parse_forms(page.text, str(page.url))
    return next((f for f in forms if not f.has_password() and allow_button(f)), None)


@server_check("AS-11", needs="login")
def token_redirect_uri(s: ProbeSession) -> Result:
    """A different redirect_uri, and none at all (RFC 6749 §4.1.3: required when the
    authorization request carried one)."""
    for problem, value in (
        ("the token endpoint took a different redirect_uri", s.target.redirect_uri + "/other"),
        ("the token endpoint redeemed the code without its redirect_uri", None),
    ):
        answer = s.redeem(s.code(), redirect_uri=value)
        if answer.status_code == 200:
            return failed("AS-11", problem, answer)
    return passed("AS-11", "a different or missing redirect_uri is refused at the token endpoint")


@server_check("AS-12", needs="login")
def http_redirect_refused(s: ProbeSession) -> Result:
    # the attack itself: the probe sends what a server must refuse
    response = _accepts(s, "http://example.com/cb")  # valetkey: ignore[OA104]
    if response is not None:
        return failed("AS-12", "an http:// non-loopback redirect URI was used", response)
    return passed("AS-12", "http:// to a non-loopback host is refused")


@server_check("AS-13", needs="login")
def state_echoed(s: ProbeSession) -> Result:
    state = ("äé &=+/?%20#" * 150)[:1500]
    grant = s.code(state=state)
    if grant.query.get("state") != state:
        return failed("AS-13", "state came back changed")
    return passed("AS-13", "a 1,500-character state came back unchanged")


@server_check("AS-14", needs="login")
def iss_in_response(s: ProbeSession) -> Result:
    grant = s.code()
    if grant.query.get("iss") != s.target.issuer.rstrip("/"):
        return failed("AS-14", f"iss in the authorization response is {grant.query.get('iss')!r}")
    if s.meta.get("authorization_response_iss_parameter_supported") is not True:
        return failed(
            "AS-14", "metadata does not say authorization_response_iss_parameter_supported"
        )
    return passed("AS-14", "iss present and advertised (RFC 9207)")


@server_check("AS-15", needs="login")
def code_single_use(s: ProbeSession) -> Result:
    grant = s.code()
    first, second = s.redeem(grant), s.redeem(grant)
    if first.status_code != 200:
        return not_applicable("AS-15", "the first redemption failed")
    if second.status_code == 200:
        return failed("AS-15", "the code was redeemed twice", second)
    if second.json().get("error") != "invalid_grant":
        return failed("AS-15", "the second redemption's error is not invalid_grant", second)
    return passed("AS-15", "second redemption: invalid_grant")


@server_check("AS-16", needs="login")
def reuse_revokes(s: ProbeSession) -> Result:
    grant = s.code()
    first = s.redeem(grant)
    if first.status_code != 200:
        return not_applicable("AS-16", "the first redemption failed")
    s.redeem(grant)
    if s.token_works(first.json()["access_token"]):
        return failed("AS-16", "the first access token still works after the code was replayed")
    refresh = first.json().get("refresh_token")
    if not refresh:
        return passed(
            "AS-16",
            "the access token from a replayed code is revoked (no refresh token was issued)",
        )
    again = s.token({"grant_type": "refresh_token", "refresh_token": refresh})
    if again.status_code == 200:
        return failed("AS-16", "the refresh token from a replayed code still works", again)
    return passed("AS-16", "the access and refresh tokens from a replayed code are revoked")


@server_check("AS-17")
def concurrent_redemption(s: ProbeSession) -> Result:
    if not s.loopback:
        return not_applicable("AS-17", "bursts are sent only to loopback targets")
    if not s.can_log_in():
        return not_applicable("AS-17", NEEDS_LOGIN)
    grant = s.code()
    with concurrent.futures.ThreadPoolExecutor(6) as pool:
        answers = list(pool.map(lambda _: s.redeem(grant), range(6)))
    wins = [a for a in answers if a.status_code == 200]
    if len(wins) > 1:
        return failed("AS-17", f"{len(wins)} of 6 concurrent redemptions succeeded", *wins[:2])
    return passed("AS-17", "at most one of 6 concurrent redemptions succeeded")


@server_check("AS-19")
def code_bound_to_client(s: ProbeSession) -> Result:
    if not s.target.public_client_id:
        return not_applicable("AS-19", "needs a second client (--public-client-id)")
    if not s.can_log_in():
        return not_applicable("AS-19", NEEDS_LOGIN)
    grant = s.code()
    data = {
        "grant_type": "authorization_code",
        "code": grant.code,
        "redirect_uri": s.target.redirect_uri,
        "code_verifier": grant.verifier or "",
    }
    answer = s.token(data, client=(s.target.public_client_id, None))
    if answer.status_code == 200:
        return failed("AS-19", "another client redeemed the code", answer)
    try:
        theirs = s.code(client_id=s.target.public_client_id)
    except ProbeError:
        return passed(
            "AS-19",
            "another client cannot redeem the code (the other way round "
            "not tried: the second client gets no code)",
        )
    data = {**data, "code": theirs.code, "code_verifier": theirs.verifier or ""}
    answer = s.token(data)
    if answer.status_code == 200:
        return failed("AS-19", "the probe client redeemed the second client's code", answer)
    return passed("AS-19", "neither client can redeem the other's code")


@server_check("AS-18")
def code_lifetime(s: ProbeSession) -> Result:
    return not_applicable("AS-18", "proving a 10-minute expiry needs a 10-minute wait")


def _bits(samples: list[str]) -> float:
    alphabet = 0
    joined = "".join(samples)
    for chars, size in ((r"[0-9]", 10), (r"[a-z]", 26), (r"[A-Z]", 26), (r"[-_.~+/]", 4)):
        if re.search(chars, joined):
            alphabet += size
    return min(len(x) for x in samples) * math.log2(max(alphabet, 2))


@server_check("AS-20", needs="login")
def entropy(s: ProbeSession) -> Result:
    codes = [s.code().code for _ in range(3)]
    bits = _bits(codes)
    if bits < 128 or len(set(codes)) < len(codes):
        return failed("AS-20", f"codes carry about {bits:.0f} bits (e.g. {codes[0]!r})")
    issued = [s.tokens() for _ in range(3)]
    for kind in ("access_token", "refresh_token"):
        values = [str(t[kind]) for t in issued if t.get(kind)]
        if len(values) < len(issued) or (kind == "access_token" and _jwt_claims(values[0])):
            continue  # not always issued, or a JWT (its size says nothing of its entropy)
        token_bits = _bits(values)
        if token_bits < 128 or len(set(values)) < len(values):
            return failed("AS-20", f"{kind.replace('_', ' ')}s carry about {token_bits:.0f} bits")
    return passed("AS-20", f"codes carry about {bits:.0f} bits; opaque tokens 128 or more")


@server_check("AS-21", needs="login")
def no_implicit(s: ProbeSession) -> Result:
    leaked = []
    for response_type in ("token", "id_token token", "code token", "code id_token token"):
        params, _ = s.params(response_type=response_type)
        stopped, response = s.front(params)
        if stopped and "access_token=" in stopped:
            leaked.append(response)
            if not response.is_redirect:
                return failed("AS-21", f"response_type={response_type} returned a token")
    if leaked:
        return failed("AS-21", "a token came back in the front channel", *leaked)
    return passed("AS-21", "token-returning response types refused")


@server_check("AS-22", needs="metadata")
def no_password_grant(s: ProbeSession) -> Result:
    answer = s.token(
        {
            # the attack itself: the probe sends what a server must refuse
            "grant_type": "password",  # valetkey: ignore[OA118]
            "username": s.target.username or "x",
            "password": s.target.password or "x",
        }
    )
    if answer.status_code == 200:
        return failed("AS-22", "the password grant issued a token", answer)
    return passed("AS-22", "the password grant is refused")


@server_check("AS-23")
def client_auth_required(s: ProbeSession) -> Result:
    """Every way a confidential client's code could be redeemed without proving the secret:
    a wrong secret (Basic and posted), no authentication, and credentials in the query."""
    if not s.target.client_secret or not s.can_log_in():
        return not_applicable("AS-23", "needs a confidential client and a login")
    wrong = "valetkey-probe-wrong-" + secrets.token_urlsafe(16)
    client_id = s.target.client_id
    variants: tuple[tuple[str, dict[str, Any]], ...] = (
        ("a wrong secret (Basic) was accepted", {"auth": (client_id, wrong)}),
        ("a wrong secret (client_secret_post) was accepted", {"form": {"client_secret": wrong}}),
        ("a confidential client's code was redeemed without its secret", {}),
        (
            "credentials in the query string were accepted",
            {"params": {"client_id": client_id, "client_secret": s.target.client_secret}},
        ),
    )
    for problem, how in variants:
        answer = _redeem_as(s, s.code(), how)
        if answer.status_code == 200:
            return failed("AS-23", problem, answer)
    return passed("AS-23", "a wrong secret, no secret and a secret in the URL are all refused")


def _redeem_as(s: ProbeSession, grant: Grant, how: dict[str, Any]) -> httpx.Response:
    data = {
        "grant_type": "authorization_code",
        "code": grant.code,
        "redirect_uri": s.target.redirect_uri,
        "code_verifier": grant.verifier or "",
    }
    if "auth" not in how and "params" not in how:
        data["client_id"] = s.target.client_id
    data.update(how.get("form", {}))
    extra: dict[str, Any] = {k: how[k] for k in ("auth", "params") if k in how}
    return s.http.post(s.endpoint("token_endpoint"), data=data, **extra)


@server_check("AS-24", needs="metadata")
def token_request_shape(s: ProbeSession) -> Result:
    get = s.http.get(s.endpoint("token_endpoint"), params={"grant_type": "client_credentials"})
    if get.status_code == 200:
        return failed("AS-24", "GET to the token endpoint answered 200", get)
    credentials = {"auth": (s.target.client_id, s.target.client_secret)}
    doubled = s.http.post(
        s.endpoint("token_endpoint"),
        **(credentials if s.target.client_secret else {}),  # type: ignore[arg-type]
        content=b"grant_type=client_credentials&grant_type=client_credentials",
        headers={"content-type": "application/x-www-form-urlencoded"},
    )
    if doubled.status_code == 200:
        return failed("AS-24", "a duplicated parameter was accepted", doubled)
    if not s.can_log_in():
        return passed(
            "AS-24",
            "GET and duplicated parameters refused (unknown parameters "
            "not tried: " + NEEDS_LOGIN + ")",
        )
    unknown = s.redeem(s.code(), valetkey_probe_unknown="1")
    if unknown.status_code != 200:
        return failed(
            "AS-24",
            "a token request with an unknown parameter was refused (RFC 6749 §3.2: ignore it)",
            unknown,
        )
    return passed("AS-24", "GET and duplicated parameters refused; unknown ones ignored")


@server_check("AS-25", needs="login")
def no_store(s: ProbeSession) -> Result:
    answer = s.redeem(s.code())
    if "no-store" not in answer.headers.get("cache-control", ""):
        return failed("AS-25", "the token response lacks Cache-Control: no-store", answer)
    refresh = answer.json().get("refresh_token") if answer.status_code == 200 else None
    if not refresh:
        return passed("AS-25", "Cache-Control: no-store (no refresh token to try)")
    again = s.token({"grant_type": "refresh_token", "refresh_token": str(refresh)})
    if "no-store" not in again.headers.get("cache-control", ""):
        return failed("AS-25", "the refresh response lacks Cache-Control: no-store", again)
    return passed("AS-25", "Cache-Control: no-store on the code and refresh responses")


@server_check("AS-26", needs="login")
def refresh_rotation(s: ProbeSession) -> Result:
    tokens = s.tokens()
    old = tokens.get("refresh_token")
    if not old:
        return not_applicable("AS-26", "no refresh token was issued")
    first = s.token({"grant_type": "refresh_token", "refresh_token": old})
    if first.status_code != 200:
        return not_applicable("AS-26", "the refresh token did not work once")
    new = first.json().get("refresh_token")
    if not new or new == old:
        return failed("AS-26", "the refresh token was not rotated", first)
    replay = s.token({"grant_type": "refresh_token", "refresh_token": old})
    if replay.status_code == 200:
        return failed("AS-26", "a used refresh token worked again", replay)
    family = s.token({"grant_type": "refresh_token", "refresh_token": new})
    if family.status_code == 200:
        return failed("AS-26", "after a replay, the rest of the family still works", family)
    if not s.target.public_client_id:
        return passed(
            "AS-26",
            "rotated; replay refused and the family revoked (client "
            "binding not tried: needs a second client, --public-client-id)",
        )
    other = _refresh_as_other_client(s)
    if other is not None and other.status_code == 200:
        return failed("AS-26", "another client used the refresh token", other)
    return passed("AS-26", "rotated; replay refused, the family revoked; bound to the client")


def _refresh_as_other_client(s: ProbeSession) -> httpx.Response | None:
    """The second client's try with a fresh refresh token of the probe's client."""
    refresh = s.tokens().get("refresh_token")
    if not refresh:
        return None
    return s.token(
        {"grant_type": "refresh_token", "refresh_token": str(refresh)},
        client=(str(s.target.public_client_id), None),
    )


@server_check("AS-27")
def no_refresh_for_client_credentials(s: ProbeSession) -> Result:
    if not s.target.client_secret:
        return not_applicable("AS-27", "needs a confidential client")
    answer = s.token({"grant_type": "client_credentials"})
    if answer.status_code != 200:
        return not_applicable("AS-27", "the client may not use client_credentials")
    if "refresh_token" in answer.json():
        return failed("AS-27", "client_credentials issued a refresh token", answer)
    return passed("AS-27", "no refresh token")


@server_check("AS-28", needs="login")
def short_lived(s: ProbeSession) -> Result:
    tokens = s.tokens()
    expires = tokens.get("expires_in")
    if not isinstance(expires, int):
        return failed("AS-28", "expires_in is missing")
    if expires > 3600:
        return failed("AS-28", f"access tokens live {expires} s")
    return passed("AS-28", f"expires_in={expires}")


@server_check("AS-29", needs="login")
def audience_and_dpop(s: ProbeSession) -> Result:
    access = str(s.tokens()["access_token"])
    claims = _jwt_claims(access)
    if claims is not None and not claims.get("aud"):
        return failed("AS-29", "the JWT access token has no aud")
    if not s.meta.get("dpop_signing_alg_values_supported"):
        return failed("AS-29", "sender-constraining (DPoP) is not offered")
    key = DpopKey()
    grant = s.code()
    proof = key.proof("POST", s.endpoint("token_endpoint"))
    answer = s.token(
        {
            "grant_type": "authorization_code",
            "code": grant.code,
            "redirect_uri": s.target.redirect_uri,
            "code_verifier": grant.verifier or "",
        },
        headers={"dpop": proof},
    )
    if answer.status_code != 200 or answer.json().get("token_type", "").lower() != "dpop":
        return failed("AS-29", "a token request with a DPoP proof did not get a DPoP token", answer)
    bound = str(answer.json()["access_token"])
    if s.token_works(bound):
        return failed("AS-29", "a DPoP-bound token worked as a plain bearer token")
    return passed("AS-29", "audience-restricted; DPoP offered and enforced")


def _jwt_claims(token: str) -> dict[str, object] | None:
    """What the server issued, read without trusting it, in order to judge it."""
    try:
        return unverified_claims(token)
    except MalformedJwt:
        return None


@server_check("AS-30", needs="login")
def no_token_in_query(s: ProbeSession) -> Result:
    access = s.tokens()["access_token"]
    userinfo = s.meta.get("userinfo_endpoint")
    if not isinstance(userinfo, str):
        return not_applicable("AS-30", "no userinfo endpoint to try")
    answer = s.http.get(userinfo, params={"access_token": access})
    if answer.status_code == 200:
        return failed("AS-30", "userinfo accepted ?access_token=", answer)
    return passed("AS-30", "?access_token= refused")


@server_check("AS-31", needs="login")
def id_token(s: ProbeSession) -> Result:
    if "openid" not in s.target.scope.split():
        return not_applicable("AS-31", "the probe's scope has no openid")
    tokens = s.tokens()
    grant = tokens["_grant"]
    id_token = tokens.get("id_token")
    if not isinstance(id_token, str):
        return failed("AS-31", "no ID token for an openid request")
    problems = _id_token_problems(s, id_token, str(tokens["access_token"]), grant.nonce)
    if problems:
        return failed("AS-31", "; ".join(problems))
    return passed(
        "AS-31", "strong alg, kid in JWKS, signature verifies; iss, aud, nonce, at_hash right"
    )


STRONG_ALGS = ("RS256", "ES256", "PS256", "EdDSA")


def _signature_verifies(token: str, jwks: dict[str, Any], alg: str) -> bool:
    """Does the JWS verify with the key its kid names in the published set (RFC 7515)?"""
    try:
        keys = KeySet.import_key_set(jwks)  # type: ignore[arg-type]
        jws.deserialize_compact(token, keys, algorithms=[alg])
    except (JoseError, ValueError):
        return False
    return True


def _id_token_problems(s: ProbeSession, id_token: str, access: str, nonce: str) -> list[str]:
    try:  # what the server issued, read without trusting it, in order to judge it
        header = unverified_header(id_token)
    except MalformedJwt:
        return ["not a compact JWT"]
    claims = _jwt_claims(id_token) or {}
    problems = []
    alg = header.get("alg")
    if alg not in STRONG_ALGS:
        problems.append(f"alg {alg!r}")
    jwks = s.http.get(s.endpoint("jwks_uri")).json()
    kids = {k.get("kid") for k in jwks.get("keys", [])}
    if header.get("kid") not in kids:
        problems.append("kid not in the JWKS")
    elif alg in STRONG_ALGS and not _signature_verifies(id_token, jwks, str(alg)):
        problems.append("the signature does not verify with the JWKS key")
    if claims.get("iss") != s.target.issuer.rstrip("/"):
        problems.append("wrong iss")
    aud = claims.get("aud")
    if s.target.client_id not in (aud if isinstance(aud, list) else [aud]):
        problems.append("wrong aud")
    if claims.get("nonce") != nonce:
        problems.append("wrong nonce")
    if "at_hash" in claims and claims["at_hash"] != left_half_hash(access):
        problems.append("wrong at_hash")
    return problems


@server_check("AS-32")
def nonce_for_front_channel_id_tokens(s: ProbeSession) -> Result:
    offered = [t for t in s.meta.get("response_types_supported", []) if "id_token" in t]
    if not offered:
        return not_applicable("AS-32", "no ID token from the authorization endpoint is offered")
    if not s.can_log_in():
        return not_applicable("AS-32", NEEDS_LOGIN)
    leaked = []
    for response_type in offered:
        params, _ = s.params(response_type=response_type, nonce=None)
        stopped, response = s.front(params)
        if stopped is not None and "id_token=" in stopped:
            leaked.append(response)
    if leaked:
        return failed(
            "AS-32", "an ID token came from the authorization endpoint without a nonce", *leaked
        )
    return passed("AS-32", f"no ID token without a nonce for: {', '.join(offered)}")


def _login_page(s: ProbeSession) -> httpx.Response | None:
    """The page a fresh browser lands on at the provider (None when it is sent straight
    back to the client with no page at all)."""
    params, _ = s.params()
    with httpx.Client(timeout=10) as fresh:
        response = fresh.get(s.authorize_url(params))
        for _ in range(10):
            if not response.is_redirect:
                return response
            target = response.url.join(response.headers["location"])
            if target.host != response.url.host or target.port != response.url.port:
                return None
            response = fresh.get(target)
    return None


def _provider_pages(s: ProbeSession) -> list[tuple[str, httpx.Response]]:
    """The pages a person meets at the provider: the login page (a fresh browser), the
    consent page (logged in; prompt=consent) and the authorization endpoint's own page
    (for a request it cannot send back: an unknown client)."""
    pages = []
    login = _login_page(s)
    if login is not None:
        pages.append(("login page", login))
    consent = _consent_page(s, s.target.redirect_uri) if s.can_log_in() else None
    if consent is not None:
        pages.append(("consent page", consent))
    params, _ = s.params(client_id="valetkey-probe-unknown")
    own = s.http.get(s.authorize_url(params))
    if not own.is_redirect and "html" in own.headers.get("content-type", ""):
        pages.append(("authorization endpoint's page", own))
    return pages


def _seen(pages: list[tuple[str, httpx.Response]]) -> str:
    return ", ".join(name for name, _ in pages)


@server_check("AS-33", needs="metadata")
def no_framing(s: ProbeSession) -> Result:
    pages = _provider_pages(s)
    if not pages:
        return not_applicable("AS-33", "the provider shows no login, consent or error page")
    for name, page in pages:
        csp = page.headers.get("content-security-policy", "")
        if "frame-ancestors" not in csp and "x-frame-options" not in page.headers:
            return failed("AS-33", f"the {name} can be framed", page)
    return passed("AS-33", f"frame-ancestors / X-Frame-Options set on: {_seen(pages)}")


@server_check("AS-34", needs="metadata")
def referrer_policy(s: ProbeSession) -> Result:
    pages = _provider_pages(s)
    if not pages:
        return not_applicable("AS-34", "the provider shows no login, consent or error page")
    for name, page in pages:
        if "referrer-policy" not in page.headers:
            return failed("AS-34", f"the {name} sets no Referrer-Policy", page)
        origin = f"{page.url.scheme}://{page.url.netloc.decode()}"
        outside = [
            u
            for u in re.findall(r'(?:src|href)="(https?://[^"]+)"', page.text)
            if not u.startswith(origin)
        ]
        if outside:
            return failed("AS-34", f"third-party content on the {name}: {outside[0]}", page)
    return passed("AS-34", f"Referrer-Policy set, nothing third-party on: {_seen(pages)}")


@server_check("AS-35", needs="login")
def redirect_after_login_post(s: ProbeSession) -> Result:
    seen: list[httpx.Response] = []
    browser = UserAgent(
        s.target.username or "", s.target.password or "", hooks={"response": [seen.append]}
    )
    try:
        params, _ = s.params()
        browser.navigate(
            s.authorize_url(params), stop_at=lambda url: url.startswith(s.target.redirect_uri)
        )
    finally:
        browser.close()
    posts = [r for r in seen if r.request.method == "POST" and r.is_redirect]
    bad = [r for r in posts if r.status_code not in (302, 303)]
    if bad:
        return failed("AS-35", f"a redirect after a form POST is {bad[0].status_code}", bad[0])
    if not posts:
        return not_applicable("AS-35", "no form POST was redirected")
    return passed("AS-35", f"redirects after POST: {sorted({r.status_code for r in posts})}")


@server_check("AS-36", needs="metadata")
def no_cors(s: ProbeSession) -> Result:
    params, _ = s.params()
    answer = s.http.get(s.authorize_url(params), headers={"origin": "https://evil.example"})
    if "access-control-allow-origin" in answer.headers:
        return failed("AS-36", "the authorization endpoint sends CORS headers", answer)
    return passed("AS-36", "no CORS headers")


@server_check("AS-38", needs="metadata")
def prompt_none(s: ProbeSession) -> Result:
    params, _ = s.params(prompt="none")
    answer = s.http.get(s.authorize_url(params))
    location = answer.headers.get("location", "")
    if "code=" in location:
        return failed("AS-38", "prompt=none without a session returned a code", answer)
    if "error=login_required" not in location and "error=interaction_required" not in location:
        return failed(
            "AS-38", "prompt=none without a session did not answer login_required", answer
        )
    return passed("AS-38", "prompt=none without a session: login_required")


@server_check("AS-39", needs="metadata")
def response_type_required(s: ProbeSession) -> Result:
    """A missing and an unknown response_type, in the logged-in browser when the probe can
    log in (a server that sends a fresh browser to its login page first shows nothing)."""
    for problem, value in (
        ("a request without response_type got a code", None),
        ("a request with an unknown response_type got a code", "valetkey-bogus"),
    ):
        params, _ = s.params(response_type=value)
        if s.can_log_in():
            stopped, answer = s.front(params)
            got = stopped is not None and "code=" in stopped
        else:
            answer = s.http.get(s.authorize_url(params))
            got = "code=" in answer.headers.get("location", "")
        if got:
            return failed("AS-39", problem, answer)
    return passed("AS-39", "a missing or unknown response_type is an error")


@server_check("AS-40")
def revocation(s: ProbeSession) -> Result:
    endpoint = s.meta.get("revocation_endpoint")
    if not isinstance(endpoint, str):
        return failed("AS-40", "no revocation_endpoint in the metadata")
    if not s.can_log_in() or not s.target.client_secret:
        return not_applicable("AS-40", "needs a confidential client and a login")
    access = s.tokens()["access_token"]
    anonymous = s.http.post(endpoint, data={"token": access})
    if s.token_works(access) is False:
        return failed("AS-40", "a revocation without client authentication took effect", anonymous)
    if s.target.public_client_id:
        other = s.http.post(
            endpoint, data={"token": access, "client_id": s.target.public_client_id}
        )
        if s.token_works(access) is False:
            return failed("AS-40", "another client revoked the probe client's token", other)
    own = s.http.post(
        endpoint, data={"token": access}, auth=(s.target.client_id, s.target.client_secret)
    )
    if s.token_works(access):
        return failed("AS-40", "the client could not revoke its own token", own)
    if not s.target.public_client_id:
        return passed(
            "AS-40",
            "needs client authentication; revokes the client's token "
            "(another client's try not made: needs --public-client-id)",
        )
    return passed("AS-40", "needs client authentication; revokes only the client's own tokens")


@server_check("AS-43", needs="login")
def scope_escalation(s: ProbeSession) -> Result:
    extra = "valetkey-unregistered-scope"
    params, verifier = s.params(scope=f"{s.target.scope} {extra}")
    stopped, _response = s.front(params)
    if stopped and "code=" in stopped:
        code = dict(httpx.URL(stopped).params)["code"]
        answer = s.token(
            {
                "grant_type": "authorization_code",
                "code": code,
                "redirect_uri": s.target.redirect_uri,
                "code_verifier": verifier,
            }
        )
        if answer.status_code == 200 and extra in answer.json().get("scope", extra):
            return failed("AS-43", "an unregistered scope was granted", answer)
    tokens = s.tokens()
    refresh = tokens.get("refresh_token")
    if refresh:
        wider = s.token(
            {
                "grant_type": "refresh_token",
                "refresh_token": refresh,
                "scope": f"{tokens.get('scope', '')} {extra}",
            }
        )
        if wider.status_code == 200:
            return failed("AS-43", "a refresh widened the scope", wider)
    upgraded = _granted_scope_upgrade(s)
    if upgraded is not None:
        return failed("AS-43", *upgraded)
    return passed(
        "AS-43",
        "unregistered scopes refused or dropped; no upgrade at the token endpoint "
        "(code redemption or refresh)",
    )


def _narrowed(scope: str) -> tuple[str, set[str]]:
    """A narrower scope than the probe's (openid and offline_access kept, so an ID token
    and a refresh token still come), and the registered scopes it leaves out."""
    words = scope.split()
    kept = [w for w in words if w in ("openid", "offline_access")] or words[:1]
    return " ".join(kept), set(words) - set(kept)


def _widened(answer: httpx.Response, left_out: set[str]) -> bool:
    if answer.status_code != 200:
        return False
    return bool(set(str(answer.json().get("scope", "")).split()) & left_out)


def _granted_scope_upgrade(s: ProbeSession) -> tuple[str, httpx.Response] | None:
    """A grant for fewer scopes than the client registered, then the token endpoint asked
    for the rest: at the code's redemption and at a refresh (RFC 6749 §3.3, §6)."""
    narrow, left_out = _narrowed(s.target.scope)
    if not left_out:
        return None
    redeemed = s.redeem(s.code(scope=narrow), scope=s.target.scope)
    if _widened(redeemed, left_out):
        return "the token endpoint widened the scope the user granted with the code", redeemed
    if redeemed.status_code != 200:
        redeemed = s.redeem(s.code(scope=narrow))
    refresh = redeemed.json().get("refresh_token") if redeemed.status_code == 200 else None
    if not refresh:
        return None
    upgraded = s.token(
        {"grant_type": "refresh_token", "refresh_token": str(refresh), "scope": s.target.scope}
    )
    if _widened(upgraded, left_out):
        return "a refresh widened the scope to registered scopes never granted", upgraded
    return None

"""The live checks of a client app (the LC ids of the check catalogue), decided by what the
app does: did it redeem a code it should have refused, did it act signed in afterwards."""

from __future__ import annotations

import contextlib
import math
import re
from collections.abc import Callable
from urllib.parse import unquote

import httpx

from valetkey import catalogue
from valetkey.oauth.redaction import fingerprint
from valetkey.probe.client_session import (
    FRAGMENT_UNSEEN,
    Attempt,
    Browser,
    Callback,
    ClientProbeError,
    ClientProbeSession,
)
from valetkey.probe.report import Result, failed, not_applicable, passed
from valetkey.probe.signed_in import Undecidable
from valetkey.provider.probe_mode import ID_TOKEN_FORGERIES

# LC-14's battery; the nonce forgeries belong to LC-08
BATTERY = tuple(how for how in ID_TOKEN_FORGERIES if "nonce" not in how)

Check = Callable[[ClientProbeSession], Result]
CLIENT_CHECKS: list[tuple[str, Check]] = []


def client_check(check_id: str) -> Callable[[Check], Check]:
    """Register a check under its catalogue id; an id the catalogue lacks fails at import."""

    def register(func: Check) -> Check:
        catalogue.require(check_id, catalogue.Family.LC, f"probe client check {func.__name__}")
        CLIENT_CHECKS.append((check_id, func))
        return func

    return register


def _bits(value: str) -> float:
    alphabet = sum(
        size
        for chars, size in ((r"[0-9]", 10), (r"[a-z]", 26), (r"[A-Z]", 26), (r"[-_.~+/]", 4))
        if re.search(chars, value)
    )
    return len(value) * math.log2(max(alphabet, 2))


def _starts(s: ClientProbeSession, count: int) -> list[Attempt]:
    attempts = []
    for _ in range(count):
        browser = s.browser()
        try:
            attempts.append(s.start(browser))
        finally:
            browser.close()
    return attempts


def _evidence(attempt: Attempt) -> list[httpx.Response]:
    return [attempt.visit.response] if attempt.visit is not None else []


def _tampered_callback(
    s: ClientProbeSession, change: Callable[[Callback], Callback]
) -> tuple[Attempt, bool]:
    """Sign in up to the callback, change the response, deliver it in the same browser."""
    browser = s.browser()
    try:
        attempt = s.start(browser)
        callback = s.authorize(browser, attempt)
        s.deliver(browser, change(callback), attempt)
        return attempt, s.redeemed(attempt) or s.signed_in(attempt)  # judged while open
    finally:
        browser.close()


@client_check("LC-01")
def fresh_state(s: ClientProbeSession) -> Result:
    states = [a.params.get("state") for a in _starts(s, 2)]
    same_browser = _states_in_one_browser(s)
    if None in states or None in same_browser:
        return failed("LC-01", "an authorization request carried no state")
    weakest = min(_bits(str(v)) for v in [*states, *same_browser])
    if weakest < 128 or len(set(states)) < 2:
        return failed("LC-01", f"state carries about {weakest:.0f} bits or repeats")
    if len(set(same_browser)) < len(same_browser):
        return failed("LC-01", "the same state served two sign-ins in one browser session")
    return passed("LC-01", f"fresh state each time, about {weakest:.0f} bits")


def _states_in_one_browser(s: ClientProbeSession) -> list[str | None]:
    """The state of a completed sign-in and of the next one started in the same browser
    (an app may decline a new sign-in once signed in: then one state)."""
    browser = s.browser()
    try:
        states = [s.full(browser).params.get("state")]
        # already signed in, no new sign-in offered: nothing reused
        with contextlib.suppress(ClientProbeError):
            states.append(s.start(browser).params.get("state"))
        return states
    finally:
        browser.close()


WRONG_STATE = "valetkey-probe-wrong-state-0123456789"
NO_CODE = "the app's sign-in returns no code (response_type={!r})"


@client_check("LC-02")
def no_state_refused(s: ClientProbeSession) -> Result:
    attempt, accepted = _tampered_callback(s, lambda c: c.without("state"))
    if accepted:
        return failed("LC-02", "a callback without state was used", *_evidence(attempt))
    return passed("LC-02", "a callback without state is refused")


@client_check("LC-03")
def wrong_state_refused(s: ClientProbeSession) -> Result:
    attempt, accepted = _tampered_callback(s, lambda c: c.with_param("state", WRONG_STATE))
    if accepted:
        return failed("LC-03", "a callback with a wrong state was used", *_evidence(attempt))
    return passed("LC-03", "a callback with a wrong state is refused")


@client_check("LC-04")
def login_csrf(s: ClientProbeSession) -> Result:
    if not s.target.other_password:
        return not_applicable("LC-04", "needs an attacker account (--attacker-username/-password)")
    attacker, victim = s.browser(attacker=True), s.browser()
    try:
        callback = s.authorize(attacker, s.start(attacker))
        s.start(victim)  # the victim started a sign-in of her own, and was distracted
        attempt = s.deliver(victim, callback)
    finally:
        attacker.close()
        victim.close()
    if s.signed_in(attempt, s.target.other_username):  # judged from what deliver saw
        return failed(
            "LC-04", "the victim was signed in by the attacker's callback", *_evidence(attempt)
        )
    return passed("LC-04", "the attacker's callback is refused in the victim's browser")


@client_check("LC-05")
def replay_refused(s: ClientProbeSession) -> Result:
    browser = s.browser()
    try:
        first = s.full(browser)
        if not s.signed_in(first):
            return not_applicable("LC-05", "the normal sign-in did not complete")
        assert first.callback is not None
        if not first.callback.carries_code:
            return not_applicable(
                "LC-05",
                NO_CODE.format(first.params.get("response_type"))
                + ": a replayed response cannot be told apart from the session already signed in",
            )
        replay = s.deliver(browser, first.callback)
    finally:
        browser.close()
    if s.sent_code(replay):
        return failed("LC-05", "a completed callback was processed again", *_evidence(replay))
    return passed("LC-05", "a replayed callback is not processed")


@client_check("LC-06")
def needs_initiating_session(s: ClientProbeSession) -> Result:
    browser, stranger = s.browser(), s.browser()
    try:
        callback = s.authorize(browser, s.start(browser))
        attempt = s.deliver(stranger, callback)
    finally:
        browser.close()
        stranger.close()
    # a redemption the sandbox refused (PKCE: the stranger has no verifier) is no sign-in
    if s.redeemed(attempt) or s.signed_in(attempt):
        return failed(
            "LC-06", "the callback worked in a browser that did not start it", *_evidence(attempt)
        )
    return passed("LC-06", "the callback needs the browser that started the sign-in")


@client_check("LC-07")
def pkce(s: ClientProbeSession) -> Result:
    attempts = _starts(s, 2)
    response_type = attempts[0].params.get("response_type", "")
    if "code" not in response_type.split():
        return failed(
            "LC-07", NO_CODE.format(response_type) + ", so no PKCE protects what comes back"
        )
    challenges = [a.params.get("code_challenge") for a in attempts]
    if None in challenges or any(a.params.get("code_challenge_method") != "S256" for a in attempts):
        return failed("LC-07", "no S256 code_challenge in the authorization request")
    if challenges[0] == challenges[1]:
        return failed("LC-07", "the code_challenge is the same in two sign-ins")
    browser = s.browser()
    try:
        attempt = s.full(browser)
    finally:
        browser.close()
    tokens = [e for e in attempt.events if e.get("endpoint") == "token"]
    if not tokens or not all(e.get("code_verifier_sent") for e in tokens):
        return failed("LC-07", "the code_verifier did not reach the token endpoint")
    return passed("LC-07", "S256, fresh each time; the verifier reaches the token endpoint")


def _forged_sign_in(s: ClientProbeSession, where: str, how: str) -> Attempt:
    browser = s.browser()
    try:
        return s.full(browser, forge=(where, how))
    finally:
        browser.close()


@client_check("LC-08")
def nonce(s: ClientProbeSession) -> Result:
    if "openid" not in s.meta.get("scopes_supported", ["openid"]):
        return not_applicable("LC-08", "not an OpenID Connect provider")
    nonces = [a.params.get("nonce") for a in _starts(s, 2)]
    if None in nonces or nonces[0] == nonces[1]:
        return failed("LC-08", "no fresh nonce in the authorization request")
    for how in ("wrong-nonce", "no-nonce"):
        attempt = _forged_sign_in(s, "token", how)
        if s.signed_in(attempt):
            return failed("LC-08", f"signed in with an ID token with {how}", *_evidence(attempt))
    return passed("LC-08", "nonce fresh; a wrong or missing nonce is refused")


@client_check("LC-09")
def code_flow(s: ClientProbeSession) -> Result:
    (attempt,) = _starts(s, 1)
    response_type = attempt.params.get("response_type")
    if response_type != "code":
        mode = attempt.params.get("response_mode") or "fragment"
        return failed(
            "LC-09",
            f"response_type={response_type!r}: tokens come back through the browser ({mode}), "
            "not over the back channel (RFC 9700 §2.1.2)",
        )
    return passed("LC-09", "response_type=code")


@client_check("LC-10")
def scopes(s: ClientProbeSession) -> Result:
    (attempt,) = _starts(s, 1)
    asked = set(attempt.params.get("scope", "").split())
    extra = sorted(asked - s.target.expected_scopes)
    if extra:
        return failed("LC-10", f"scopes beyond the expected set: {' '.join(extra)}")
    return passed("LC-10", f"scope={' '.join(sorted(asked))}")


@client_check("LC-11")
def constant_redirect_uri(s: ClientProbeSession) -> Result:
    (baseline,) = _starts(s, 1)
    expected = baseline.params.get("redirect_uri")
    spoofs = (
        {
            "x-forwarded-host": "evil.example",
            "x-forwarded-proto": "https",
            "forwarded": "host=evil.example",
        },
        {"host": "evil.example"},
    )
    for headers in spoofs:
        browser = s.browser()
        try:
            spoofed = s.start(browser, headers=headers)
        except ClientProbeError:
            continue  # the app refused the spoofed request outright: fine
        finally:
            browser.close()
        if spoofed.params.get("redirect_uri") != expected:
            return failed(
                "LC-11",
                f"{', '.join(headers)} changed redirect_uri to "
                f"{spoofed.params.get('redirect_uri')!r}",
            )
    return passed("LC-11", "redirect_uri follows neither Host nor X-Forwarded-Host")


EVIL_TARGETS = (
    "https://evil.example/",
    "//evil.example/",
    "/\\evil.example/",
    "https:%2F%2Fevil.example",
)


REDIRECT_PARAMS = ("next", "return_to", "redirect", "url")


@client_check("LC-12")
def no_open_redirect(s: ClientProbeSession) -> Result:
    """Each evil target in all four parameters at once: at login, and at logout (GET, POST)."""
    for evil in EVIL_TARGETS:
        bad = _sign_in_redirects_off_site(s, evil) or _logout_redirects_off_site(s, evil)
        if bad is not None:
            name = next((n for n in REDIRECT_PARAMS if n in str(bad.request.url)), "next")
            return failed("LC-12", f"?{name}={evil} redirected off-site", bad)
    return passed(
        "LC-12", "no off-site redirect via next, return_to, redirect or url, at login or logout"
    )


def _sign_in_redirects_off_site(s: ClientProbeSession, evil: str) -> httpx.Response | None:
    browser = s.browser()
    try:
        url = httpx.URL(s.target.login_url)
        for name in REDIRECT_PARAMS:
            url = url.copy_set_param(name, evil)
        attempt = s.start(browser, str(url))
        s.deliver(browser, s.authorize(browser, attempt), attempt)
        return _off_site(browser)
    finally:
        browser.close()


def _logout_redirects_off_site(s: ClientProbeSession, evil: str) -> httpx.Response | None:
    browser = s.browser()
    try:
        s.full(browser)
        for method in ("GET", "POST"):
            browser.agent.http.request(
                method, f"{s.app_origin}/logout", params=dict.fromkeys(REDIRECT_PARAMS, evil)
            )
        return _off_site(browser)
    finally:
        browser.close()


def _off_site(browser: Browser) -> httpx.Response | None:
    return next(
        (r for r in browser.responses if "evil.example" in r.headers.get("location", "")), None
    )


@client_check("LC-13")
def mix_up(s: ClientProbeSession) -> Result:
    if not s.meta.get("authorization_response_iss_parameter_supported"):
        return not_applicable("LC-13", "the provider does not send iss")
    for how in ("no-iss", "wrong-iss"):
        attempt = _forged_sign_in(s, "authorization", how)
        if s.redeemed(attempt) or s.signed_in(attempt):
            return failed(
                "LC-13", f"an authorization response with {how} was used", *_evidence(attempt)
            )
    return passed("LC-13", "a missing or wrong iss is refused")


@client_check("LC-14")
def id_token_battery(s: ClientProbeSession) -> Result:
    accepted = []
    for how in BATTERY:
        attempt = _forged_sign_in(s, "token", how)
        if s.signed_in(attempt):
            accepted.append(how)
    if accepted:
        return failed("LC-14", f"signed in with forged ID tokens: {', '.join(accepted)}")
    return passed("LC-14", f"all {len(BATTERY)} forged ID tokens refused")


@client_check("LC-15")
def code_injection(s: ClientProbeSession) -> Result:
    if not s.target.other_password:
        return not_applicable("LC-15", "needs an attacker account")
    attacker, victim = s.browser(attacker=True), s.browser()
    try:
        stolen = s.authorize(attacker, s.start(attacker)).get("code")
        own = s.authorize(victim, s.start(victim))
        if own.tokens() and not own.carries_code:
            return not_applicable(
                "LC-15", "the sandbox returns tokens, no code, to this app: no code to inject"
            )
        if stolen is None or not own.carries_code:
            raise ClientProbeError(f"the sandbox answered {own.get('error')!r}, no code")
        attempt = s.deliver(victim, own.with_param("code", stolen))
    finally:
        attacker.close()
        victim.close()
    if s.signed_in(attempt, s.target.other_username):
        return failed("LC-15", "an injected code signed the victim in", *_evidence(attempt))
    return passed("LC-15", "an injected code does not sign anyone in")


@client_check("LC-16")
def identity_needs_id_token(s: ClientProbeSession) -> Result:
    if "openid" not in s.meta.get("scopes_supported", ["openid"]):
        return not_applicable("LC-16", "not an OpenID Connect provider")
    attempt = _forged_sign_in(s, "token", "no-id-token")
    if s.signed_in(attempt):
        return failed(
            "LC-16", "signed in from a token response without an ID token", *_evidence(attempt)
        )
    return passed("LC-16", "no ID token, no sign-in")


def _callback_response(browser: Browser, callback: Callback | None) -> httpx.Response | None:
    if callback is None:
        return None
    path = httpx.URL(callback.url).path
    return next((r for r in browser.responses if r.request.url.path == path), None)


RESPONSE_VALUES = ("code=", "state=", "access_token=", "id_token=")


@client_check("LC-17")
def clean_callback(s: ClientProbeSession) -> Result:
    browser = s.browser()
    try:
        attempt = s.full(browser)
        answer = _callback_response(browser, attempt.callback)
    finally:
        browser.close()
    if attempt.callback is not None and attempt.callback.mode == "fragment":
        return _fragment_callback_page(answer)
    if answer is None or not answer.is_redirect:
        return failed(
            "LC-17", "the callback does not answer with a redirect", *([answer] if answer else [])
        )
    location = answer.headers.get("location", "")
    problems = []
    if any(value in location for value in RESPONSE_VALUES):
        problems.append("the redirect keeps the code, state or a token")
    problems += _caching_problems(answer)
    if problems:
        return failed("LC-17", "; ".join(problems), answer)
    return passed("LC-17", "redirect to a clean URL, Referrer-Policy and no-store")


def _caching_problems(answer: httpx.Response) -> list[str]:
    problems = []
    if "referrer-policy" not in answer.headers:
        problems.append("no Referrer-Policy")
    if "no-store" not in answer.headers.get("cache-control", ""):
        problems.append("no Cache-Control: no-store")
    return problems


def _fragment_callback_page(answer: httpx.Response | None) -> Result:
    """Tokens in the fragment stay in the address bar and history until the page's script
    removes them; the probe sees the page's headers, not what its script does."""
    if answer is None:
        return not_applicable("LC-17", "the app never answered the callback")
    problems = _caching_problems(answer)
    if problems:
        return failed("LC-17", "the page the tokens arrive at has " + "; ".join(problems), answer)
    return not_applicable(
        "LC-17", FRAGMENT_UNSEEN + ": whether it removes the tokens from the URL is not seen"
    )


SECRET_KINDS = ("access_token", "refresh_token", "client_secret")
CANDIDATE = re.compile(r"[A-Za-z0-9._~+/-]{16,}")


@client_check("LC-18")
def no_secret_exposed(s: ClientProbeSession) -> Result:
    """Tokens and the client secret in URLs (query and fragment), redirects, response bodies
    and error pages: after a normal sign-in, and after a callback the app must refuse (a
    bogus code; a wrong state when the tokens come in the response itself)."""
    browser = s.browser()
    try:
        attempt = s.full(browser)
        refused = _refused_callback(s, browser)
        responses = [r for r in browser.responses if str(r.request.url).startswith(s.app_origin)]
    finally:
        browser.close()
    known = _known_secrets([attempt, refused])
    delivered = {*attempt.delivered, *refused.delivered}
    for response in responses:
        # the sandbox, not the app, put the tokens in a delivered callback's URL
        where, value = _exposes(response, known, str(response.request.url) not in delivered)
        if where:
            return failed("LC-18", where, response, redact=(value,))
    if attempt.callback is not None and attempt.callback.mode == "fragment":
        return not_applicable(
            "LC-18", FRAGMENT_UNSEEN + ": where it sends the tokens is not seen (none so far)"
        )
    return passed("LC-18", "no token or client secret in any URL, redirect or page")


def _known_secrets(attempts: list[Attempt]) -> dict[str, str]:
    """Fingerprints of the secrets these sign-ins used: what the sandbox's log saw at the
    token endpoint, and the tokens the authorization responses carried themselves."""
    known = {
        e[kind]: kind.replace("_", " ")
        for attempt in attempts
        for e in attempt.events
        if e.get("endpoint") == "token"
        for kind in SECRET_KINDS
        if e.get(kind)
    }
    for attempt in attempts:
        tokens = attempt.callback.tokens() if attempt.callback is not None else {}
        names = {"access_token": "access token", "id_token": "ID token"}
        known.update({fingerprint(value): names[name] for name, value in tokens.items()})
    return known


def _refused_callback(s: ClientProbeSession, browser: Browser) -> Attempt:
    """A fresh sign-in's response made one the app must refuse: the error path. A bogus code;
    or, when the response carries the tokens themselves, the real tokens with a wrong state."""
    attempt = s.start(browser)
    callback = s.authorize(browser, attempt)
    if callback.carries_code:
        refused = callback.with_param("code", "valetkey-probe-bogus")
    else:
        refused = callback.with_param("state", WRONG_STATE)
    return s.deliver(browser, refused, attempt)


def _exposes(
    response: httpx.Response, known: dict[str, str], in_url: bool = True
) -> tuple[str, str]:
    """Where in this response (its request's URL too, when `in_url`) a known secret shows,
    and the secret ("" and "": nowhere)."""
    places = (
        ("the URL", unquote(str(response.request.url)) if in_url else ""),
        ("a redirect", unquote(response.headers.get("location", ""))),
        (f"a {response.status_code} page", response.text[:500_000]),
    )
    for place, text in places:
        for value in CANDIDATE.findall(text):
            for part in (value, *value.split(".")):  # a JWT, or a token ending a sentence
                kind = known.get(fingerprint(part))
                if kind:
                    return f"the {kind} appeared in {place}", part
    return "", ""


@client_check("LC-19")
def cookies(s: ClientProbeSession) -> Result:
    browser = s.browser()
    try:
        attempt = s.start(browser)
        before = browser.cookies()
        s.deliver(browser, s.authorize(browser, attempt), attempt)
        after = browser.cookies()
        set_cookies = [
            c
            for r in browser.responses
            if str(r.request.url).startswith(s.app_origin)
            for c in r.headers.get_list("set-cookie")
        ]
    finally:
        browser.close()
    weak = [
        c
        for c in set_cookies
        if "max-age=0" not in c.lower()
        and ("httponly" not in c.lower() or "samesite" not in c.lower())
    ]
    if weak:
        return failed(
            "LC-19", f"a cookie without HttpOnly or SameSite: {weak[0].split(';')[0][:40]}"
        )
    if not before:
        return passed("LC-19", "cookies HttpOnly and SameSite; no session before sign-in")
    unseen = _sign_in_unseen(s, attempt)
    if unseen:  # no sign-in seen, so no rotation at it to judge
        return not_applicable("LC-19", f"cookies HttpOnly and SameSite; {unseen}")
    kept = _fixed_session(before, after, attempt.cookies_set)
    if kept:
        return failed("LC-19", f"the session cookie {kept} does not change at sign-in")
    return passed("LC-19", "cookies HttpOnly and SameSite; a new session id at sign-in")


def _sign_in_unseen(s: ClientProbeSession, attempt: Attempt) -> str:
    """Why this attempt's sign-in cannot be seen to have happened ("" when it happened)."""
    try:
        signed_in = s.signed_in(attempt)
    except Undecidable as exc:
        return f"whether the session id changes at sign-in is not seen: {exc}"
    return "" if signed_in else "the sign-in did not complete, so no session id change to see"


SESSION_WORDS = ("sess", "sid", "auth", "login", "user")


def _fixed_session(before: dict[str, str], after: dict[str, str], changed: frozenset[str]) -> str:
    """A pre-login cookie that keeps its value through the sign-in and carries the session:
    session-like by name, or the only thing that could, since no cookie changed."""
    kept = [n for n, v in before.items() if after.get(n) == v and v]
    for name in kept:
        if not changed or any(word in name.lower() for word in SESSION_WORDS):
            return name
    return ""


@client_check("LC-20")
def error_response(s: ClientProbeSession) -> Result:
    markup = "<script>alert('valetkey')</script>"
    browser = s.browser()
    try:
        attempt = s.start(browser)
        callback = s.authorize(browser, attempt)
        error = {
            "error": "access_denied",
            "error_description": markup,
            "state": attempt.params.get("state", ""),
        }
        s.deliver(browser, callback.with_params(error), attempt)
    finally:
        browser.close()
    if callback.mode == "fragment":
        return not_applicable("LC-20", FRAGMENT_UNSEEN + ": how it shows an error is not seen")
    assert attempt.visit is not None
    answer = attempt.visit.response
    if answer.status_code >= 500:
        return failed("LC-20", "error=access_denied answered with a 5xx", answer)
    if markup in answer.text:
        return failed("LC-20", "the error_description's markup was reflected", answer)
    return passed("LC-20", "handled without a 5xx and without reflecting markup")

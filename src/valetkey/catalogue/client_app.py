"""The LC ids: what `valetkey probe client` checks on a live client app.

The probe drives the app through a browser-like agent while the sandbox, as the app's
provider, answers with crafted responses; the examples are HTTP exchanges.
"""

from __future__ import annotations

from valetkey.catalogue.entry import Entry, Example, Severity

ENTRIES: tuple[Entry, ...] = (
    Entry(
        id="LC-01",
        slug="state-fresh",
        title="Each authorization request carries a fresh `state` of at least 128 bits.",
        severity=Severity.HIGH,
        clause="RFC 6749 §10.10, §10.12; RFC 9700 §2.1",
        what=(
            "Every sign-in attempt sends a new, unpredictable `state`; it never repeats within or "
            "across browser sessions and carries at least 128 bits."
        ),
        why=(
            "`state` is the client's proof that a callback belongs to the sign-in this browser "
            "started. A missing, short or reused value can be guessed or replayed, which re-opens "
            "login CSRF."
        ),
        bad=Example(
            "http",
            """\
GET /login -> 302 Location: https://auth.example/authorize?...&state=1
GET /login -> 302 Location: https://auth.example/authorize?...&state=1
""",
        ),
        good=Example(
            "http",
            """\
GET /login -> 302 Location: https://auth.example/authorize?...&state=q0r8mFv2XbW9...
GET /login -> 302 Location: https://auth.example/authorize?...&state=Zk3pT1aN7cE4...
""",
        ),
        fix="Generate `secrets.token_urlsafe(32)` per attempt and keep it in the session.",
    ),
    Entry(
        id="LC-02",
        slug="callback-without-state",
        title="A callback with a code and no state is refused.",
        severity=Severity.HIGH,
        clause="RFC 6749 §10.12; RFC 9700 §4.7.1",
        what="The callback does not redeem a code when the `state` parameter is missing.",
        why=(
            "An attacker who strips `state` from a callback URL, or crafts one, must not get a "
            'login; "no state means no check" is the most common state bug.'
        ),
        bad=Example(
            "http",
            """\
GET /callback?code=Splx...

HTTP/1.1 302 Found
Location: /photos   (signed in)
""",
        ),
        good=Example(
            "http",
            """\
GET /callback?code=Splx...

HTTP/1.1 400 Bad Request
""",
        ),
        fix="Treat a missing `state` like a wrong one: stop with 400 before the code exchange.",
    ),
    Entry(
        id="LC-03",
        slug="callback-wrong-state",
        title="A callback with a wrong state is refused.",
        severity=Severity.HIGH,
        clause="RFC 6749 §10.12; RFC 9700 §4.7.1",
        what=(
            "A `state` that differs from the one stored for this browser's sign-in stops the "
            "callback before the code is redeemed."
        ),
        why=(
            "Comparing and then carrying on anyway, or comparing against a value the request "
            "itself supplied, is no protection."
        ),
        bad=Example(
            "http",
            """\
GET /callback?code=Splx...&state=not-the-one-i-sent

HTTP/1.1 302 Found
Location: /photos
""",
        ),
        good=Example(
            "http",
            """\
GET /callback?code=Splx...&state=not-the-one-i-sent

HTTP/1.1 400 Bad Request
""",
        ),
        fix="Compare with the session's value in constant time and return 400 on a mismatch.",
    ),
    Entry(
        id="LC-04",
        slug="login-csrf",
        title="An attacker's code and state delivered to the victim's browser are refused.",
        severity=Severity.HIGH,
        clause="RFC 6749 §10.12; RFC 9700 §4.7.1",
        what=(
            "The probe signs in as the attacker, stops before the callback, and opens the "
            "attacker's callback URL in the victim's browser; the app must not sign the victim "
            "in."
        ),
        why=(
            "This is login CSRF: the victim, silently signed in as the attacker, uploads photos "
            "or card details into the attacker's account."
        ),
        bad=Example(
            "http",
            """\
(victim's browser) GET /callback?code=(attacker's)&state=(attacker's)

HTTP/1.1 302 Found
Location: /photos   (the victim is now the attacker)
""",
        ),
        good=Example(
            "http",
            """\
(victim's browser) GET /callback?code=(attacker's)&state=(attacker's)

HTTP/1.1 400 Bad Request
""",
        ),
        fix=(
            "Bind `state` to the browser session that started the sign-in, not merely check that "
            "it is one the app issued."
        ),
    ),
    Entry(
        id="LC-05",
        slug="callback-replay",
        title="Replaying a completed callback is refused.",
        severity=Severity.MEDIUM,
        clause="RFC 9700 §4.2.4",
        what=(
            "Opening the same callback URL (same code and state) again after a successful sign-in "
            "does not process it again."
        ),
        why=(
            "Callback URLs stay in history and logs; an app that re-processes one lets anyone "
            "with the URL repeat the sign-in, and shows that state is not single-use."
        ),
        bad=Example(
            "http",
            """\
GET /callback?code=Splx...&state=q0r8...   (second time)

HTTP/1.1 302 Found
Location: /photos
""",
        ),
        good=Example(
            "http",
            """\
GET /callback?code=Splx...&state=q0r8...   (second time)

HTTP/1.1 400 Bad Request
""",
        ),
        fix="Remove the stored state when the callback reads it.",
    ),
    Entry(
        id="LC-06",
        slug="callback-needs-session",
        title="The callback does not complete in a browser without the initiating session.",
        severity=Severity.HIGH,
        clause="RFC 6749 §10.12; RFC 9700 §4.7.1",
        what=(
            "A callback opened in a fresh browser, with no session cookie from the sign-in start, "
            "is refused."
        ),
        why=(
            "If the callback works in any browser, state is checked against something global (a "
            "server-side list of issued states) instead of the user's session."
        ),
        bad=Example(
            "http",
            """\
(fresh browser) GET /callback?code=Splx...&state=q0r8...

HTTP/1.1 302 Found
Location: /photos
""",
        ),
        good=Example(
            "http",
            """\
(fresh browser) GET /callback?code=Splx...&state=q0r8...

HTTP/1.1 400 Bad Request
""",
        ),
        fix=(
            "Keep the state in the session (or a cookie bound to it) and refuse callbacks without "
            "it."
        ),
    ),
    Entry(
        id="LC-07",
        slug="pkce-used",
        title=(
            "The client sends a fresh S256 `code_challenge`, and the verifier reaches the token "
            "endpoint."
        ),
        severity=Severity.HIGH,
        clause="RFC 7636 §4.1, §4.2; RFC 9700 §2.1.1",
        what=(
            "The authorization request has `code_challenge_method=S256` and a challenge that "
            "changes per attempt; the token request carries the matching `code_verifier`."
        ),
        why=(
            "PKCE binds the code to the client instance that asked for it. A constant challenge "
            "or a verifier that never arrives gives none of that protection."
        ),
        bad=Example(
            "http",
            """\
GET /authorize?response_type=code&client_id=app&state=...   (no code_challenge)
""",
        ),
        good=Example(
            "http",
            """\
GET /authorize?response_type=code&client_id=app&state=...
    &code_challenge=E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM&code_challenge_method=S256
POST /token  ...&code_verifier=dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk
""",
        ),
        fix=(
            "Generate a verifier per attempt with a CSPRNG, send its S256 hash, keep the verifier "
            "in the session and send it with the code."
        ),
    ),
    Entry(
        id="LC-08",
        slug="nonce-checked",
        title=(
            "OIDC sign-ins send a unique nonce and refuse an ID token with a wrong or missing one."
        ),
        severity=Severity.HIGH,
        clause="OIDC Core §3.1.2.1, §3.1.3.7",
        what=(
            "The authorization request includes a fresh `nonce`; the probe's provider then "
            "returns ID tokens whose nonce is wrong or absent, and the app must not sign in with "
            "them."
        ),
        why=(
            "The nonce ties the ID token to this sign-in attempt. Without the comparison, an ID "
            "token captured from an earlier login is replayed."
        ),
        bad=Example(
            "http",
            """\
(provider returns an ID token with "nonce": "some-other-value")
GET /callback?code=...&state=...  -> 302 /photos
""",
        ),
        good=Example(
            "http",
            """\
(provider returns an ID token with "nonce": "some-other-value")
GET /callback?code=...&state=...  -> 400 Bad Request
""",
        ),
        fix="Store the nonce with the session and compare it with the ID token's `nonce` claim.",
    ),
    Entry(
        id="LC-09",
        slug="code-flow-only",
        title="The client uses `response_type=code`; no token in the front channel.",
        severity=Severity.HIGH,
        clause="RFC 9700 §2.1.2",
        what="The authorization request asks for `response_type=code` only.",
        why=(
            "Token-returning response types put tokens in the browser URL, where history, "
            "referrers and extensions can read them, and allow token injection."
        ),
        bad=Example(
            "http",
            """\
GET https://auth.example/authorize?response_type=token&client_id=app&...
""",
        ),
        good=Example(
            "http",
            """\
GET https://auth.example/authorize?response_type=code&client_id=app&...
""",
        ),
        fix="Use the authorization code flow with PKCE.",
    ),
    Entry(
        id="LC-10",
        slug="scope-expected",
        title="Requested scopes stay within the expected set.",
        severity=Severity.MEDIUM,
        clause="RFC 9700 §2.3; RFC 6819 §4.2.2",
        what=(
            "The `scope` of the authorization request is a subset of what the app is expected to "
            "need (given to the probe)."
        ),
        why=(
            "Asking for more than the app uses turns every bug or leaked token into a larger "
            "breach, and trains users to approve broad requests."
        ),
        bad=Example(
            "http",
            """\
GET /authorize?...&scope=openid%20profile%20photos:read%20photos:delete%20admin
""",
        ),
        good=Example(
            "http",
            """\
GET /authorize?...&scope=openid%20profile%20photos:read
""",
        ),
        fix="Ask only for the scopes the app uses; request more later if a feature needs it.",
    ),
    Entry(
        id="LC-11",
        slug="redirect-uri-constant",
        title=(
            "The `redirect_uri` sent is constant and does not follow `Host` or `X-Forwarded-Host`."
        ),
        severity=Severity.HIGH,
        clause="RFC 6749 §3.1.2; RFC 9700 §4.1",
        what=(
            "The probe starts sign-ins with forged `Host` and `X-Forwarded-Host` headers; the "
            "`redirect_uri` in the authorization request stays the configured one."
        ),
        why=(
            "A redirect URI built from request headers lets an attacker choose where the provider "
            "sends the code, wherever the provider matches loosely."
        ),
        bad=Example(
            "http",
            """\
GET /login
X-Forwarded-Host: evil.example

302 Location: https://auth.example/authorize?...&redirect_uri=https://evil.example/callback
""",
        ),
        good=Example(
            "http",
            """\
GET /login
X-Forwarded-Host: evil.example

302 Location: https://auth.example/authorize?...&redirect_uri=https://app.example/callback
""",
        ),
        fix="Take the redirect URI from configuration, never from the request.",
    ),
    Entry(
        id="LC-12",
        slug="no-open-redirect",
        title="No open redirect on login, logout or the callback.",
        severity=Severity.MEDIUM,
        clause="RFC 9700 §4.11.1",
        what=(
            "Parameters such as `next`, `return_to`, `redirect` and `url` never send the browser "
            "off-site, whatever the spelling: `https://evil`, `//evil`, `/\\evil`, encoded forms."
        ),
        why=(
            "An open redirector on the client lets attackers lend a phishing link the app's name, "
            "and in some flows steal the code or token carried by the redirect."
        ),
        bad=Example(
            "http",
            """\
GET /login?next=//evil.example/

HTTP/1.1 302 Found
Location: //evil.example/
""",
        ),
        good=Example(
            "http",
            """\
GET /login?next=//evil.example/

HTTP/1.1 302 Found
Location: /
""",
        ),
        fix=(
            "Accept only relative paths that start with a single `/`, or compare the parsed host "
            "with an allow-list."
        ),
    ),
    Entry(
        id="LC-13",
        slug="mix-up-iss",
        title="A response with a wrong or missing `iss` is refused where the provider sends it.",
        severity=Severity.MEDIUM,
        clause="RFC 9207 §2.4; RFC 9700 §4.4",
        what=(
            "When the provider advertises `authorization_response_iss_parameter_supported`, the "
            "app refuses a callback whose `iss` is missing or names another issuer."
        ),
        why=(
            "In a mix-up attack a malicious provider makes the client send the honest provider's "
            "code to it; comparing `iss` with the provider the sign-in started with detects this."
        ),
        bad=Example(
            "http",
            """\
GET /callback?code=...&state=...&iss=https%3A%2F%2Fevil.example  -> 302 /photos
""",
        ),
        good=Example(
            "http",
            """\
GET /callback?code=...&state=...&iss=https%3A%2F%2Fevil.example  -> 400 Bad Request
""",
        ),
        fix=(
            "Remember which provider the sign-in started with and compare the callback's `iss` "
            "with its issuer."
        ),
    ),
    Entry(
        id="LC-14",
        slug="id-token-battery",
        title="Forged ID tokens do not sign anyone in.",
        severity=Severity.HIGH,
        clause="OIDC Core §3.1.3.7; RFC 8725 §3.1, §3.2",
        what=(
            "The provider answers with a battery of broken ID tokens: a bad signature, "
            "`alg=none`, HS256 keyed with the RSA public key, a wrong or missing `iss` or `aud`, "
            "expired, no `sub`, an unknown `kid`. The app must sign in with none of them."
        ),
        why=(
            "Each forgery matches a real library or integration bug; accepting any one lets an "
            "attacker sign in as any user."
        ),
        bad=Example(
            "python",
            """\
claims = jwt.decode(id_token, options={"verify_signature": False})
login(claims["sub"])
""",
        ),
        good=Example(
            "python",
            """\
claims = jwt.decode(id_token, jwks.get_signing_key_from_jwt(id_token).key,
                    algorithms=["RS256"], audience=CLIENT_ID, issuer=ISSUER,
                    options={"require": ["exp", "iss", "aud", "sub"]})
login(claims["iss"], claims["sub"])
""",
        ),
        fix=(
            "Verify with a JWT library against the provider's JWKS, pin the algorithms, and "
            "require `iss`, `aud` (your client id), `exp` and `sub`."
        ),
    ),
    Entry(
        id="LC-15",
        slug="code-injection",
        title="A code issued for another session does not sign anyone in.",
        severity=Severity.HIGH,
        clause="RFC 9700 §4.5",
        what=(
            "The probe puts a code obtained in the attacker's session into the victim's callback "
            "(with the victim's own state); redemption must fail and no sign-in happens."
        ),
        why=(
            "Code injection replays a stolen code in the attacker's browser; PKCE (the verifier "
            "belongs to the session that started) or the nonce stops it."
        ),
        bad=Example(
            "http",
            """\
(victim's browser) GET /callback?code=(attacker's code)&state=(victim's state)
-> 302 /photos
""",
        ),
        good=Example(
            "http",
            """\
(victim's browser) GET /callback?code=(attacker's code)&state=(victim's state)
-> token endpoint answers invalid_grant -> 400 Bad Request
""",
        ),
        fix="Use PKCE with a verifier kept in the session, and for OIDC check the nonce.",
    ),
    Entry(
        id="LC-16",
        slug="identity-from-id-token",
        title=(
            "An access token for another client, or a response without an ID token, does not "
            "establish identity."
        ),
        severity=Severity.HIGH,
        clause="RFC 6819 §4.4.1.13; OIDC Core §3.1.3.7",
        what=(
            "When the provider's token response has no ID token, or the access token was minted "
            "for another client, the app does not sign the user in from userinfo alone."
        ),
        why=(
            "In token substitution an attacker who got a user's access token through another app "
            "presents it here; only an ID token whose `aud` is this client proves who signed in "
            "to this client."
        ),
        bad=Example(
            "http",
            """\
POST /token -> {"access_token": "...", "token_type": "Bearer"}   (no id_token)
GET /userinfo -> {"sub": "alice"}   => signed in as alice
""",
        ),
        good=Example(
            "http",
            """\
POST /token -> {"access_token": "...", "token_type": "Bearer"}   (no id_token)
=> 400 Bad Request: the sign-in needs an ID token
""",
        ),
        fix="Require a verified ID token for sign-in; use access tokens only to call APIs.",
    ),
    Entry(
        id="LC-17",
        slug="callback-clean",
        title=(
            "The callback redirects to a clean URL, with `Referrer-Policy` and `Cache-Control: "
            "no-store`."
        ),
        severity=Severity.MEDIUM,
        clause="RFC 9700 §4.2.4; RFC 6749 §10.5",
        what=(
            "The callback answers with a redirect to a URL without the code or state, and its "
            "response carries `Referrer-Policy` and `Cache-Control: no-store`."
        ),
        why=(
            "A page rendered at the callback URL keeps the code in history and sends it in the "
            "referrer of every link and asset on it."
        ),
        bad=Example(
            "http",
            """\
GET /callback?code=Splx...&state=...

HTTP/1.1 200 OK
<img src="https://cdn.example/logo.png">
""",
        ),
        good=Example(
            "http",
            """\
GET /callback?code=Splx...&state=...

HTTP/1.1 303 See Other
Location: /photos
Referrer-Policy: no-referrer
Cache-Control: no-store
""",
        ),
        fix=(
            "Redirect (303) to the landing page after the exchange and set both headers on the "
            "callback response."
        ),
    ),
    Entry(
        id="LC-18",
        slug="no-token-leaks",
        title="No access token in any URL the app issues, and no client secret in any response.",
        severity=Severity.HIGH,
        clause="RFC 6750 §5.3; RFC 9700 §4.3.2",
        what=(
            "The probe watches every redirect and page: no URL carries an access token and no "
            "body or header reveals the client secret."
        ),
        why=(
            "URLs leak through logs, history and referrers; a client secret shown to a browser "
            "makes the client public."
        ),
        bad=Example(
            "http",
            """\
HTTP/1.1 302 Found
Location: /photos?access_token=2YotnFZFEjr1zCsicMWpAA
""",
        ),
        good=Example(
            "http",
            """\
HTTP/1.1 302 Found
Location: /photos
""",
        ),
        fix=(
            "Keep tokens and secrets server side; send tokens only in `Authorization` headers of "
            "back-channel calls."
        ),
    ),
    Entry(
        id="LC-19",
        slug="cookie-hygiene",
        title=(
            "Cookies that carry state or the verifier are HttpOnly and SameSite, and the session "
            "id changes at login."
        ),
        severity=Severity.MEDIUM,
        clause="RFC 6265 §4.1.2.5, §4.1.2.6; RFC 9700 §4.7.1",
        what=(
            "Cookies holding the sign-in's state, nonce or verifier (or the session that holds "
            "them) are `HttpOnly` and `SameSite=Lax` or `Strict`, `Secure` outside loopback; the "
            "session cookie's value changes when the user signs in."
        ),
        why=(
            "A script-readable cookie leaks the state to XSS; a session id that survives sign-in "
            "allows session fixation, in which the attacker's pre-set cookie becomes a signed-in "
            "session."
        ),
        bad=Example(
            "http",
            """\
Set-Cookie: session=abc123; Path=/
(the same session=abc123 after sign-in)
""",
        ),
        good=Example(
            "http",
            """\
Set-Cookie: session=...; Path=/; HttpOnly; SameSite=Lax; Secure
(a new session value after sign-in)
""",
        ),
        fix="Set the flags on the session cookie and issue a new session id at sign-in.",
    ),
    Entry(
        id="LC-20",
        slug="error-handling",
        title=(
            "An `error=access_denied` response, even with markup in `error_description`, is "
            "handled without a 500 and without reflection."
        ),
        severity=Severity.MEDIUM,
        clause="RFC 6749 §4.1.2.1",
        what=(
            "The callback handles an error response from the provider: it shows a page (not a "
            "500) and does not echo `error_description` as HTML."
        ),
        why=(
            "Attackers can send users to the callback with any parameters; reflected markup is "
            "XSS on the app's origin, and a crash on a normal refusal is a broken login."
        ),
        bad=Example(
            "http",
            """\
GET /callback?error=access_denied&error_description=<script>alert(1)</script>

HTTP/1.1 200 OK
Sign-in failed: <script>alert(1)</script>
""",
        ),
        good=Example(
            "http",
            """\
GET /callback?error=access_denied&error_description=<script>alert(1)</script>

HTTP/1.1 400 Bad Request
Sign-in was cancelled. <a href="/">Try again</a>
""",
        ),
        fix="Check for `error` first, show a fixed message, and escape anything you display.",
    ),
)

"""The AS ids: what `valetkey probe server` checks on a live authorization server.

The sandbox enforces the same ids on itself (its request checks name them), so a probe
run against `valetkey serve` passes; the examples are HTTP exchanges.
"""

from __future__ import annotations

from valetkey.catalogue.entry import Entry, Example, Severity

ENTRIES: tuple[Entry, ...] = (
    Entry(
        id="AS-01",
        slug="discovery-exact",
        title="The discovery document is served and names the issuer exactly.",
        severity=Severity.MEDIUM,
        clause="RFC 8414 §3; OIDC Discovery §4",
        what=(
            "The server publishes its metadata at the well-known path; the `issuer` in it is byte "
            "for byte the issuer the client was configured with, and the OAuth and OpenID paths "
            "(when both exist) agree."
        ),
        why=(
            "Clients trust the endpoints they find in metadata. If the issuer in the document may "
            "differ from the one asked for, an attacker who can serve a document can point a "
            "client at their own token or JWKS endpoint, and mix-up defences that compare `iss` "
            "stop working."
        ),
        bad=Example(
            "http",
            """\
GET /.well-known/openid-configuration HTTP/1.1
Host: auth.example

HTTP/1.1 200 OK
{"issuer": "https://auth.example/", "token_endpoint": "https://auth.example/token"}
""",
        ),
        good=Example(
            "http",
            """\
GET /.well-known/openid-configuration HTTP/1.1
Host: auth.example

HTTP/1.1 200 OK
{"issuer": "https://auth.example", "token_endpoint": "https://auth.example/token"}
""",
        ),
        fix=(
            "Serve /.well-known/oauth-authorization-server and /.well-known/openid-configuration "
            "from one source, with `issuer` set to the exact issuer URL."
        ),
    ),
    Entry(
        id="AS-02",
        slug="https-endpoints",
        title="Every endpoint is served over https.",
        severity=Severity.HIGH,
        clause="RFC 6749 §3.1, §3.2; RFC 9700 §2.6",
        what=(
            "The authorization, token, userinfo, JWKS and revocation endpoints in the metadata "
            "use https. A sandbox on a loopback address may use http; the probe reports that as a "
            "note, not a failure."
        ),
        why=(
            "Codes, tokens, client secrets and passwords cross these endpoints. Over plain http "
            "anyone on the path reads or rewrites them."
        ),
        bad=Example(
            "http",
            """\
{"authorization_endpoint": "http://auth.example/authorize",
 "token_endpoint": "http://auth.example/token"}
""",
        ),
        good=Example(
            "http",
            """\
{"authorization_endpoint": "https://auth.example/authorize",
 "token_endpoint": "https://auth.example/token"}
""",
        ),
        fix="Terminate TLS in front of every endpoint and list only https URLs in the metadata.",
    ),
    Entry(
        id="AS-03",
        slug="pkce-s256-only",
        title="PKCE offers S256 only, and `plain` is refused.",
        severity=Severity.HIGH,
        clause="RFC 7636 §4.3; RFC 9700 §2.1.1",
        what=(
            "The metadata's `code_challenge_methods_supported` contains `S256` and not `plain`, "
            "and an authorization request with `code_challenge_method=plain` is answered with an "
            "error."
        ),
        why=(
            "With `plain` the challenge is the verifier itself, so whoever sees the authorization "
            "request (a log, a malicious app on the device) can redeem the stolen code. S256 "
            "sends only a hash."
        ),
        bad=Example(
            "http",
            """\
GET /authorize?response_type=code&client_id=app&code_challenge=E9Mel...&code_challenge_method=plain

HTTP/1.1 302 Found
Location: https://app.example/cb?code=SplxlOBeZQQYbYS6WxSbIA&state=xyz
""",
        ),
        good=Example(
            "http",
            """\
GET /authorize?response_type=code&client_id=app&code_challenge=E9Mel...&code_challenge_method=plain

HTTP/1.1 302 Found
Location: https://app.example/cb?error=invalid_request&state=xyz
""",
        ),
        fix="Accept only `code_challenge_method=S256` and advertise only S256.",
    ),
    Entry(
        id="AS-04",
        slug="verifier-checked",
        title="A code issued with a challenge needs the matching verifier.",
        severity=Severity.HIGH,
        clause="RFC 7636 §4.6",
        what=(
            "When the authorization request carried a `code_challenge`, the token endpoint "
            "refuses the code if the `code_verifier` is missing or does not hash to that "
            "challenge."
        ),
        why=(
            "PKCE only protects a stolen code if the server actually compares. A server that "
            "stores the challenge but never checks it gives no protection at all."
        ),
        bad=Example(
            "http",
            """\
POST /token
grant_type=authorization_code&code=Splx...&redirect_uri=https://app.example/cb

HTTP/1.1 200 OK
{"access_token": "...", "token_type": "Bearer"}
""",
        ),
        good=Example(
            "http",
            """\
POST /token
grant_type=authorization_code&code=Splx...&redirect_uri=https://app.example/cb

HTTP/1.1 400 Bad Request
{"error": "invalid_grant", "error_description": "code_verifier is required"}
""",
        ),
        fix=(
            "At the token endpoint compute BASE64URL(SHA256(code_verifier)) and compare it in "
            "constant time with the stored challenge; refuse with `invalid_grant` otherwise."
        ),
    ),
    Entry(
        id="AS-05",
        slug="pkce-no-downgrade",
        title="A verifier sent for a code issued without a challenge is refused.",
        severity=Severity.HIGH,
        clause="RFC 9700 §4.8.2",
        what=(
            "When the authorization request had no `code_challenge`, a token request that "
            "nevertheless carries a `code_verifier` is refused."
        ),
        why=(
            "In a PKCE downgrade the attacker strips the challenge from the victim's "
            "authorization request and later redeems the code with any verifier. Refusing the "
            "unexpected verifier closes that path."
        ),
        bad=Example(
            "http",
            """\
POST /token
grant_type=authorization_code&code=(issued without challenge)&code_verifier=(any 43 chars)

HTTP/1.1 200 OK
""",
        ),
        good=Example(
            "http",
            """\
POST /token
grant_type=authorization_code&code=(issued without challenge)&code_verifier=(any 43 chars)

HTTP/1.1 400 Bad Request
{"error": "invalid_grant"}
""",
        ),
        fix=(
            "Refuse a token request whose `code_verifier` presence does not match whether the "
            "code was issued with a challenge."
        ),
    ),
    Entry(
        id="AS-06",
        slug="pkce-required",
        title="PKCE is required, at least for public clients.",
        severity=Severity.HIGH,
        clause="RFC 9700 §2.1.1",
        what=(
            "An authorization request from a public client without a `code_challenge` is refused "
            "(a server may require PKCE from every client)."
        ),
        why=(
            "A public client has no secret, so a code intercepted on the way back (a custom URI "
            "scheme, a log, a referrer) is redeemable by anyone unless PKCE binds it to the one "
            "who asked."
        ),
        bad=Example(
            "http",
            """\
GET /authorize?response_type=code&client_id=mobile-app&redirect_uri=...&state=xyz

HTTP/1.1 302 Found
Location: com.example.app:/cb?code=Splx...&state=xyz
""",
        ),
        good=Example(
            "http",
            """\
GET /authorize?response_type=code&client_id=mobile-app&redirect_uri=...&state=xyz

HTTP/1.1 302 Found
Location: com.example.app:/cb?error=invalid_request&error_description=code_challenge+required
""",
        ),
        fix=(
            "Refuse authorization requests without `code_challenge` for public clients, and "
            "preferably for all clients."
        ),
    ),
    Entry(
        id="AS-07",
        slug="verifier-length",
        title="A `code_verifier` shorter than 43 characters is refused.",
        severity=Severity.MEDIUM,
        clause="RFC 7636 §4.1",
        what=(
            "The token endpoint refuses verifiers outside 43 to 128 characters of the unreserved "
            "alphabet."
        ),
        why=(
            "A short verifier can be guessed, which turns PKCE back into no protection. The lower "
            "bound exists so that the verifier carries enough entropy."
        ),
        bad=Example(
            "http",
            """\
POST /token
grant_type=authorization_code&code=Splx...&code_verifier=abc

HTTP/1.1 200 OK
""",
        ),
        good=Example(
            "http",
            """\
POST /token
grant_type=authorization_code&code=Splx...&code_verifier=abc

HTTP/1.1 400 Bad Request
{"error": "invalid_request"}
""",
        ),
        fix="Validate the verifier's length and alphabet before comparing it.",
    ),
    Entry(
        id="AS-08",
        slug="redirect-uri-exact",
        title="The `redirect_uri` is compared with the registered one exactly.",
        severity=Severity.HIGH,
        clause="RFC 6749 §3.1.2.3; RFC 9700 §4.1.3",
        what=(
            "Only a string equal to a registered redirect URI is accepted. Near misses are "
            "refused: an added query or path, `/../`, another port or scheme, a changed host "
            "case, a trailing slash, percent-encoded variants."
        ),
        why=(
            "Loose matching lets an attacker send the code to a URI they control on the same or a "
            "lookalike host (an open redirector, a user-content path), and then redeem it. Exact "
            "matching is the only rule that holds up."
        ),
        bad=Example(
            "http",
            """\
GET /authorize?response_type=code&client_id=app
    &redirect_uri=https://app.example/cb/../open?to=evil

HTTP/1.1 302 Found
Location: https://app.example/cb/../open?to=evil&code=Splx...
""",
        ),
        good=Example(
            "http",
            """\
GET /authorize?response_type=code&client_id=app
    &redirect_uri=https://app.example/cb/../open?to=evil

HTTP/1.1 400 Bad Request
(an error page: the redirect_uri is not registered for this client)
""",
        ),
        fix=(
            "Compare the full redirect URI as a string with the registered values; allow only a "
            "varying port for loopback native apps."
        ),
    ),
    Entry(
        id="AS-09",
        slug="no-redirect-unknown-client",
        title=(
            "An unknown client or unregistered `redirect_uri` gets an error page, never a redirect."
        ),
        severity=Severity.HIGH,
        clause="RFC 6749 §4.1.2.1",
        what=(
            "When the `client_id` is unknown or the `redirect_uri` is not registered, the server "
            "shows the error itself and does not redirect anywhere."
        ),
        why=(
            "Redirecting to an unvalidated URI turns the authorization endpoint into an open "
            "redirector, useful for phishing and for leaking whatever the redirect carries."
        ),
        bad=Example(
            "http",
            """\
GET /authorize?response_type=code&client_id=nobody&redirect_uri=https://evil.example/

HTTP/1.1 302 Found
Location: https://evil.example/?error=unauthorized_client
""",
        ),
        good=Example(
            "http",
            """\
GET /authorize?response_type=code&client_id=nobody&redirect_uri=https://evil.example/

HTTP/1.1 400 Bad Request
(an error page that names the problem)
""",
        ),
        fix=(
            "Validate `client_id` and `redirect_uri` first; on failure render an error page with "
            "status 400."
        ),
    ),
    Entry(
        id="AS-10",
        slug="errors-not-redirected",
        title="Errors are never sent to a `redirect_uri` that failed validation.",
        severity=Severity.HIGH,
        clause="RFC 6749 §4.1.2.1; RFC 9700 §4.11.2",
        what=(
            "Whatever else is wrong with the request (a bad scope, a bad response type, a "
            "denial), if the redirect URI is not valid the error is shown, not redirected."
        ),
        why=(
            "Attackers combine an invalid parameter with their own redirect URI to make the "
            "server redirect users to them; the error redirect is the open redirector."
        ),
        bad=Example(
            "http",
            """\
GET /authorize?response_type=bogus&client_id=app&redirect_uri=https://evil.example/

HTTP/1.1 302 Found
Location: https://evil.example/?error=unsupported_response_type
""",
        ),
        good=Example(
            "http",
            """\
GET /authorize?response_type=bogus&client_id=app&redirect_uri=https://evil.example/

HTTP/1.1 400 Bad Request
(an error page)
""",
        ),
        fix=(
            "Decide whether the redirect URI is valid before looking at any other parameter; only "
            "then may later errors redirect."
        ),
    ),
    Entry(
        id="AS-11",
        slug="token-redirect-uri-match",
        title="The token request's `redirect_uri` must equal the authorization request's.",
        severity=Severity.HIGH,
        clause="RFC 6749 §4.1.3",
        what=(
            "When the authorization request carried a `redirect_uri`, the token endpoint refuses "
            "a code exchange whose `redirect_uri` is missing or different."
        ),
        why=(
            "The comparison ties the code to where it was delivered; without it, a code leaked "
            "through a manipulated redirect can be redeemed as if it had gone to the right place."
        ),
        bad=Example(
            "http",
            """\
POST /token
grant_type=authorization_code&code=Splx...&redirect_uri=https://other.example/cb

HTTP/1.1 200 OK
""",
        ),
        good=Example(
            "http",
            """\
POST /token
grant_type=authorization_code&code=Splx...&redirect_uri=https://other.example/cb

HTTP/1.1 400 Bad Request
{"error": "invalid_grant"}
""",
        ),
        fix="Store the redirect URI with the code and compare it exactly at the token endpoint.",
    ),
    Entry(
        id="AS-12",
        slug="no-http-redirect",
        title="`http://` redirect URIs are refused except to loopback.",
        severity=Severity.HIGH,
        clause="RFC 9700 §2.6; RFC 8252 §7.3",
        what=(
            "Registration and the authorization endpoint refuse a plain-http redirect URI unless "
            "its host is 127.0.0.1, [::1] or localhost."
        ),
        why=(
            "A code delivered over plain http can be read by anyone on the network path. Loopback "
            "traffic never leaves the machine, so native apps may use it."
        ),
        bad=Example(
            "http",
            """\
GET /authorize?response_type=code&client_id=app&redirect_uri=http://app.example/cb

HTTP/1.1 302 Found
Location: http://app.example/cb?code=Splx...
""",
        ),
        good=Example(
            "http",
            """\
GET /authorize?response_type=code&client_id=app&redirect_uri=http://app.example/cb

HTTP/1.1 400 Bad Request
(an error page: http is allowed only for loopback redirect URIs)
""",
        ),
        fix="Require https for redirect URIs, with an exception only for loopback hosts.",
    ),
    Entry(
        id="AS-13",
        slug="state-echoed",
        title="`state` comes back unchanged, long values included.",
        severity=Severity.MEDIUM,
        clause="RFC 6749 §4.1.2",
        what=(
            "The authorization response carries the request's `state` byte for byte, also when it "
            "is long (over a kilobyte) or holds characters that need encoding."
        ),
        why=(
            "Clients bind the response to the browser session through `state`. A server that "
            "truncates or re-encodes it breaks clients that check strictly and pushes them to "
            "check loosely."
        ),
        bad=Example(
            "http",
            """\
GET /authorize?...&state=a1b2...(1500 characters)

HTTP/1.1 302 Found
Location: https://app.example/cb?code=Splx...&state=a1b2...(first 255 characters)
""",
        ),
        good=Example(
            "http",
            """\
GET /authorize?...&state=a1b2...(1500 characters)

HTTP/1.1 302 Found
Location: https://app.example/cb?code=Splx...&state=a1b2...(all 1500 characters)
""",
        ),
        fix="Echo `state` exactly as received, URL-encoded once.",
    ),
    Entry(
        id="AS-14",
        slug="iss-in-response",
        title="The authorization response carries `iss`, and the metadata says so.",
        severity=Severity.MEDIUM,
        clause="RFC 9207 §2, §3",
        what=(
            "Every authorization response (success and error) includes `iss` equal to the issuer, "
            "and the metadata sets `authorization_response_iss_parameter_supported` to true."
        ),
        why=(
            "A client that talks to several servers cannot otherwise tell which one answered, "
            "which is what a mix-up attack exploits."
        ),
        bad=Example(
            "http",
            """\
HTTP/1.1 302 Found
Location: https://app.example/cb?code=Splx...&state=xyz
""",
        ),
        good=Example(
            "http",
            """\
HTTP/1.1 302 Found
Location: https://app.example/cb?code=Splx...&state=xyz&iss=https%3A%2F%2Fauth.example
""",
        ),
        fix=(
            "Add `iss=<issuer>` to every redirect from the authorization endpoint and advertise "
            "it in the metadata."
        ),
    ),
    Entry(
        id="AS-15",
        slug="code-single-use",
        title="An authorization code works once; the second redemption gets `invalid_grant`.",
        severity=Severity.HIGH,
        clause="RFC 6749 §4.1.2, §4.1.3",
        what=(
            "After a code has been exchanged, any further token request with it is refused with "
            "`invalid_grant`."
        ),
        why=(
            "Codes leak (logs, referrers, browser history). A code that can be redeemed again "
            "hands tokens to whoever finds it later."
        ),
        bad=Example(
            "http",
            """\
POST /token  (the same code, a second time)

HTTP/1.1 200 OK
{"access_token": "..."}
""",
        ),
        good=Example(
            "http",
            """\
POST /token  (the same code, a second time)

HTTP/1.1 400 Bad Request
{"error": "invalid_grant"}
""",
        ),
        fix="Mark the code used atomically when it is redeemed and refuse it afterwards.",
    ),
    Entry(
        id="AS-16",
        slug="code-replay-revokes",
        title="Replaying a code revokes the tokens it issued.",
        severity=Severity.HIGH,
        clause="RFC 6749 §4.1.2, §10.5",
        what=(
            "When a used code is presented again, the server refuses it and also revokes the "
            "access and refresh tokens issued from it."
        ),
        why=(
            "A replay means two parties hold the code, and the server cannot tell which one is "
            "honest. Revoking the first tokens limits what an attacker who won the race can do."
        ),
        bad=Example(
            "http",
            """\
POST /token  (replayed code)          -> 400 invalid_grant
GET /api/photos  (first access token) -> 200 OK
""",
        ),
        good=Example(
            "http",
            """\
POST /token  (replayed code)          -> 400 invalid_grant
GET /api/photos  (first access token) -> 401 Unauthorized
""",
        ),
        fix=(
            "Keep a link from each code to the tokens it issued and revoke them when the code is "
            "replayed."
        ),
    ),
    Entry(
        id="AS-17",
        slug="redemption-race",
        title="Concurrent redemptions of one code or refresh token succeed at most once.",
        severity=Severity.HIGH,
        clause="RFC 6749 §4.1.2; RFC 9700 §4.14.2",
        what=(
            "When several token requests with the same code (or refresh token) arrive at the same "
            "time, at most one gets tokens. The probe sends a tiny burst, and only to loopback or "
            "sandbox targets."
        ),
        why=(
            'A check-then-update without a lock lets parallel requests all pass the "unused" '
            "test, so single use exists only on paper."
        ),
        bad=Example(
            "http",
            """\
6 x POST /token with the same code, in parallel
-> 200, 200, 200, 400, 400, 400
""",
        ),
        good=Example(
            "http",
            """\
6 x POST /token with the same code, in parallel
-> 200, 400, 400, 400, 400, 400
""",
        ),
        fix=(
            "Claim the code or refresh token in one atomic update (a conditional UPDATE, a row "
            "lock) before issuing tokens."
        ),
    ),
    Entry(
        id="AS-18",
        slug="code-lifetime",
        title="Codes expire within ten minutes.",
        severity=Severity.MEDIUM,
        clause="RFC 6749 §4.1.2",
        what=(
            "An authorization code older than ten minutes is refused (a shorter lifetime is "
            "better)."
        ),
        why=(
            "The code is only a hand-over; a long-lived one widens the window in which a leaked "
            "code can be used."
        ),
        bad=Example(
            "http",
            """\
POST /token  (a code issued 30 minutes ago)

HTTP/1.1 200 OK
""",
        ),
        good=Example(
            "http",
            """\
POST /token  (a code issued 30 minutes ago)

HTTP/1.1 400 Bad Request
{"error": "invalid_grant"}
""",
        ),
        fix="Store the issue time with the code and refuse it after at most 600 seconds.",
    ),
    Entry(
        id="AS-19",
        slug="code-bound-to-client",
        title="A code can be redeemed only by the client it was issued to.",
        severity=Severity.HIGH,
        clause="RFC 6749 §4.1.3",
        what=(
            "The token endpoint refuses a code presented by (or authenticated as) a different "
            "client."
        ),
        why=(
            "Otherwise a malicious client that gets hold of another client's code redeems it and "
            "receives tokens meant for the other application."
        ),
        bad=Example(
            "http",
            """\
POST /token
Authorization: Basic (other-client credentials)
grant_type=authorization_code&code=(issued to photo-printer)

HTTP/1.1 200 OK
""",
        ),
        good=Example(
            "http",
            """\
POST /token
Authorization: Basic (other-client credentials)
grant_type=authorization_code&code=(issued to photo-printer)

HTTP/1.1 400 Bad Request
{"error": "invalid_grant"}
""",
        ),
        fix=(
            "Store the client id with the code and compare it with the authenticated client at "
            "redemption."
        ),
    ),
    Entry(
        id="AS-20",
        slug="token-entropy",
        title="Codes and tokens carry at least 128 bits of entropy.",
        severity=Severity.HIGH,
        clause="RFC 6749 §10.10; RFC 6819 §5.1.4.2.2",
        what=(
            "Codes, access tokens and refresh tokens are drawn from a CSPRNG with at least 128 "
            "bits of randomness; the probe estimates this over several samples."
        ),
        why=(
            "Guessable codes and tokens can be brute-forced or predicted from earlier ones, "
            "without stealing anything."
        ),
        bad=Example(
            "http",
            """\
Location: https://app.example/cb?code=100234&state=xyz
Location: https://app.example/cb?code=100235&state=xyz
""",
        ),
        good=Example(
            "http",
            """\
Location: https://app.example/cb?code=Vq3nT0pX9sR2Lw8cYb6eH1kM4aZ7uJ5d&state=xyz
Location: https://app.example/cb?code=G2xP8rQ4mW1tN7bK3yC9vE6hL0sA5fDj&state=xyz
""",
        ),
        fix="Generate them with `secrets.token_urlsafe(32)` or an equivalent CSPRNG.",
    ),
    Entry(
        id="AS-21",
        slug="no-implicit",
        title="Implicit and token-returning hybrid response types are refused.",
        severity=Severity.HIGH,
        clause="RFC 9700 §2.1.2",
        what=(
            "`response_type=token`, `id_token token`, `code token` and `code id_token token` are "
            "refused; the server gives tokens only at the token endpoint."
        ),
        why=(
            "A token in the redirect URL ends up in browser history, referrers and logs, cannot "
            "be bound to the client, and can be injected by an attacker."
        ),
        bad=Example(
            "http",
            """\
GET /authorize?response_type=token&client_id=app&redirect_uri=https://app.example/cb

HTTP/1.1 302 Found
Location: https://app.example/cb#access_token=2YotnFZFEjr1zCsicMWpAA
""",
        ),
        good=Example(
            "http",
            """\
GET /authorize?response_type=token&client_id=app&redirect_uri=https://app.example/cb

HTTP/1.1 302 Found
Location: https://app.example/cb?error=unsupported_response_type
""",
        ),
        fix=(
            "Support `response_type=code` (and `code id_token` if you must); refuse the rest with "
            "`unsupported_response_type`."
        ),
    ),
    Entry(
        id="AS-22",
        slug="no-password-grant",
        title="The resource-owner password grant is refused.",
        severity=Severity.HIGH,
        clause="RFC 6749 §5.2; RFC 9700 §2.4",
        what=(
            "A token request with `grant_type=password` is answered with `unsupported_grant_type` "
            "(or `unauthorized_client`), never with tokens."
        ),
        why=(
            "The password grant hands the user's password to the client, trains users to type it "
            "into apps, and bypasses multi-factor login and consent."
        ),
        bad=Example(
            "http",
            """\
POST /token
grant_type=password&username=alice&password=hunter2

HTTP/1.1 200 OK
""",
        ),
        good=Example(
            "http",
            """\
POST /token
grant_type=password&username=alice&password=hunter2

HTTP/1.1 400 Bad Request
{"error": "unsupported_grant_type"}
""",
        ),
        fix=(
            "Do not implement the password grant; offer the code flow with PKCE, or the device "
            "flow."
        ),
    ),
    Entry(
        id="AS-23",
        slug="client-auth-required",
        title="Confidential clients must authenticate, and not in the query string.",
        severity=Severity.HIGH,
        clause="RFC 6749 §2.3.1, §3.2.1",
        what=(
            "A token request for a confidential client without credentials, or with a wrong "
            "secret, is refused with `invalid_client`; client credentials in the URL query are "
            "refused too."
        ),
        why=(
            "Without authentication anyone who obtains the client's code or refresh token can "
            "redeem it. Secrets in a URL are written to access logs and proxies."
        ),
        bad=Example(
            "http",
            """\
POST /token?client_id=photo-printer&client_secret=s3cr3t
grant_type=authorization_code&code=Splx...

HTTP/1.1 200 OK
""",
        ),
        good=Example(
            "http",
            """\
POST /token?client_id=photo-printer&client_secret=s3cr3t
grant_type=authorization_code&code=Splx...

HTTP/1.1 401 Unauthorized
WWW-Authenticate: Basic realm="token"
{"error": "invalid_client"}
""",
        ),
        fix=(
            "Require HTTP Basic (or `client_secret_post` in the body, or a JWT assertion) for "
            "confidential clients; refuse credentials in the query."
        ),
    ),
    Entry(
        id="AS-24",
        slug="token-request-shape",
        title="The token endpoint takes POST only, with each parameter once.",
        severity=Severity.MEDIUM,
        clause="RFC 6749 §3.2",
        what=(
            "GET requests to the token endpoint and requests that repeat a parameter are refused; "
            "parameters the server does not know are ignored."
        ),
        why=(
            "A GET puts codes and secrets in the URL; duplicated parameters let an attacker make "
            "two components read different values of the same request."
        ),
        bad=Example(
            "http",
            """\
POST /token
grant_type=authorization_code&code=real&code=attacker

HTTP/1.1 200 OK
""",
        ),
        good=Example(
            "http",
            """\
POST /token
grant_type=authorization_code&code=real&code=attacker

HTTP/1.1 400 Bad Request
{"error": "invalid_request", "error_description": "code is repeated"}
""",
        ),
        fix=(
            "Accept only POST with a form body, refuse any parameter sent twice, and ignore "
            "unknown ones."
        ),
    ),
    Entry(
        id="AS-25",
        slug="token-no-store",
        title="Token responses carry `Cache-Control: no-store`.",
        severity=Severity.MEDIUM,
        clause="RFC 6749 §5.1",
        what=(
            "Every response from the token endpoint that holds a token has `Cache-Control: "
            "no-store`."
        ),
        why="Without it a proxy or the browser cache may keep tokens where others can read them.",
        bad=Example(
            "http",
            """\
HTTP/1.1 200 OK
Content-Type: application/json

{"access_token": "...", "token_type": "Bearer"}
""",
        ),
        good=Example(
            "http",
            """\
HTTP/1.1 200 OK
Content-Type: application/json
Cache-Control: no-store

{"access_token": "...", "token_type": "Bearer"}
""",
        ),
        fix=(
            "Add `Cache-Control: no-store` (and `Pragma: no-cache` for old caches) to token "
            "responses."
        ),
    ),
    Entry(
        id="AS-26",
        slug="refresh-rotation",
        title=(
            "Refresh tokens rotate, replay revokes the family, and they are bound to their client."
        ),
        severity=Severity.HIGH,
        clause="RFC 6749 §6; RFC 9700 §4.14.2",
        what=(
            "Each refresh issues a new refresh token and invalidates the old one; presenting an "
            "old one revokes every token descended from the same grant; another client cannot use "
            "the refresh token."
        ),
        why=(
            "Refresh tokens live long. Rotation with replay detection turns a stolen refresh "
            "token into something the server notices, instead of a quiet permanent login."
        ),
        bad=Example(
            "http",
            """\
POST /token  grant_type=refresh_token&refresh_token=(already used)

HTTP/1.1 200 OK
""",
        ),
        good=Example(
            "http",
            """\
POST /token  grant_type=refresh_token&refresh_token=(already used)

HTTP/1.1 400 Bad Request
{"error": "invalid_grant"}   (and the newer tokens of that family are revoked)
""",
        ),
        fix=(
            "Issue a new refresh token on every use, remember the family, and revoke it when a "
            "used member comes back."
        ),
    ),
    Entry(
        id="AS-27",
        slug="no-refresh-client-credentials",
        title="The client-credentials grant issues no refresh token.",
        severity=Severity.LOW,
        clause="RFC 6749 §4.4.3",
        what="A token response to `grant_type=client_credentials` contains no `refresh_token`.",
        why=(
            "The client can always ask again with its credentials; a refresh token only adds a "
            "long-lived secret that can leak."
        ),
        bad=Example(
            "http",
            """\
POST /token  grant_type=client_credentials

HTTP/1.1 200 OK
{"access_token": "...", "refresh_token": "tGzv3JOkF0XG5Qx2TlKWIA"}
""",
        ),
        good=Example(
            "http",
            """\
POST /token  grant_type=client_credentials

HTTP/1.1 200 OK
{"access_token": "...", "token_type": "Bearer", "expires_in": 300}
""",
        ),
        fix="Leave `refresh_token` out of client-credentials responses.",
    ),
    Entry(
        id="AS-28",
        slug="short-access-tokens",
        title="Access tokens are short-lived and `expires_in` says how long.",
        severity=Severity.MEDIUM,
        clause="RFC 6749 §5.1; RFC 9700 §4.10.1",
        what=(
            "Token responses include `expires_in`, and access tokens live minutes to an hour, not "
            "days."
        ),
        why=(
            "A bearer token works for whoever holds it until it expires; a short life bounds the "
            "damage of a leak, and `expires_in` lets clients refresh in time."
        ),
        bad=Example(
            "http",
            """\
{"access_token": "...", "token_type": "Bearer"}
""",
        ),
        good=Example(
            "http",
            """\
{"access_token": "...", "token_type": "Bearer", "expires_in": 900}
""",
        ),
        fix="Issue access tokens for an hour or less and always send `expires_in`.",
    ),
    Entry(
        id="AS-29",
        slug="audience-and-dpop",
        title="Access tokens are audience-restricted, and DPoP is offered.",
        severity=Severity.MEDIUM,
        clause="RFC 9700 §2.3, §4.10.1; RFC 9449 §5",
        what=(
            "Access tokens name the resource they are for (`aud`), and the server offers "
            "sender-constrained tokens with DPoP: `dpop_signing_alg_values_supported` in the "
            "metadata, and a `DPoP`-bound token when a proof is sent."
        ),
        why=(
            "A token accepted by every API can be replayed by one API against the others. A "
            "sender-constrained token is useless to a thief without the private key."
        ),
        bad=Example(
            "http",
            """\
{"token_endpoint": "https://auth.example/token"}
(no dpop_signing_alg_values_supported; tokens carry no aud)
""",
        ),
        good=Example(
            "http",
            """\
{"token_endpoint": "https://auth.example/token",
 "dpop_signing_alg_values_supported": ["ES256"]}
POST /token + DPoP: eyJ... -> {"token_type": "DPoP", ...}
""",
        ),
        fix=(
            "Put `aud` in access tokens, check it at each resource server, and support DPoP "
            "proofs at the token endpoint."
        ),
    ),
    Entry(
        id="AS-30",
        slug="no-query-token",
        title="The resource server and userinfo refuse `?access_token=` in the query.",
        severity=Severity.MEDIUM,
        clause="RFC 6750 §2.3; RFC 9700 §4.3.2",
        what=(
            "A request that carries the access token as a URL query parameter is refused; the "
            "token must come in the `Authorization` header."
        ),
        why=(
            "URLs are logged by servers and proxies, kept in history and sent in referrers, so a "
            "token in the query leaks."
        ),
        bad=Example(
            "http",
            """\
GET /userinfo?access_token=2YotnFZFEjr1zCsicMWpAA

HTTP/1.1 200 OK
""",
        ),
        good=Example(
            "http",
            """\
GET /userinfo?access_token=2YotnFZFEjr1zCsicMWpAA

HTTP/1.1 401 Unauthorized
WWW-Authenticate: Bearer error="invalid_request"
""",
        ),
        fix=(
            "Read access tokens only from the `Authorization: Bearer` header (or a form body "
            "where allowed), and answer a query token with 400 or 401."
        ),
    ),
    Entry(
        id="AS-31",
        slug="id-token-sound",
        title="ID tokens are strongly signed, with the right claims and a known key.",
        severity=Severity.HIGH,
        clause="OIDC Core §2, §3.1.3.6; RFC 8725 §3.1",
        what=(
            "ID tokens are signed with an asymmetric algorithm (RS256, ES256, ...), never `none`; "
            "`iss`, `aud`, `nonce` and `at_hash` are right; the `kid` in the header is in the "
            "JWKS."
        ),
        why=(
            "Clients verify ID tokens against exactly these properties. A server that gets one "
            "wrong forces clients to accept broken tokens, or makes forgeries indistinguishable."
        ),
        bad=Example(
            "http",
            """\
{"alg": "none"}.{"iss": "https://auth.example", "aud": "other-client", "sub": "alice"}.
""",
        ),
        good=Example(
            "http",
            """\
{"alg": "RS256", "kid": "k1"}.{"iss": "https://auth.example", "aud": "photo-printer",
 "sub": "alice", "nonce": "n-0S6_WzA2Mj", "at_hash": "77QmUPtjPfzWtF2AnpK9RQ"}.(signature)
""",
        ),
        fix=(
            "Sign with a key from the published JWKS, set `iss` to the issuer, `aud` to the "
            "client, copy the request's `nonce`, and compute `at_hash` from the access token."
        ),
    ),
    Entry(
        id="AS-32",
        slug="nonce-required",
        title="`nonce` is required wherever an ID token comes from the authorization endpoint.",
        severity=Severity.MEDIUM,
        clause="OIDC Core §3.2.2.1, §3.3.2.11",
        what=(
            "An authorization request whose response would carry an ID token in the front channel "
            "(`id_token`, `code id_token`) is refused without `nonce`."
        ),
        why=(
            "An ID token delivered through the browser can be captured and replayed; the nonce is "
            "what ties it to one login attempt."
        ),
        bad=Example(
            "http",
            """\
GET /authorize?response_type=code%20id_token&scope=openid&client_id=app&...(no nonce)

HTTP/1.1 302 Found
Location: https://app.example/cb#code=...&id_token=eyJ...
""",
        ),
        good=Example(
            "http",
            """\
GET /authorize?response_type=code%20id_token&scope=openid&client_id=app&...(no nonce)

HTTP/1.1 302 Found
Location: https://app.example/cb#error=invalid_request
""",
        ),
        fix="Refuse such requests with `invalid_request` when `nonce` is missing.",
    ),
    Entry(
        id="AS-33",
        slug="no-framing",
        title="Login, consent and authorization pages cannot be framed.",
        severity=Severity.MEDIUM,
        clause="RFC 6749 §10.13; RFC 9700 §4.16",
        what=(
            "These pages send `Content-Security-Policy: frame-ancestors 'none'` (or a short "
            "allow-list) and `X-Frame-Options: DENY`."
        ),
        why=(
            'In a frame on an attacker\'s page, users can be tricked into clicking "Allow" or '
            "typing their password under a disguised overlay (clickjacking)."
        ),
        bad=Example(
            "http",
            """\
HTTP/1.1 200 OK
Content-Type: text/html

<form action="/consent" method="post">...
""",
        ),
        good=Example(
            "http",
            """\
HTTP/1.1 200 OK
Content-Type: text/html
Content-Security-Policy: frame-ancestors 'none'
X-Frame-Options: DENY
""",
        ),
        fix="Send both headers on every HTML page of the authorization server.",
    ),
    Entry(
        id="AS-34",
        slug="referrer-and-own-assets",
        title=(
            "Login, consent and authorization pages set `Referrer-Policy` and load nothing from "
            "third parties."
        ),
        severity=Severity.MEDIUM,
        clause="RFC 9700 §4.2.4",
        what=(
            "Login, consent and authorization pages send a restrictive `Referrer-Policy` "
            "(`no-referrer` or `strict-origin`) and load scripts, styles, fonts and images only "
            "from the server itself."
        ),
        why=(
            "The authorization URL holds the request's parameters; a referrer or a third-party "
            "script on the page can read or leak them, and a third-party script sees the password "
            "field."
        ),
        bad=Example(
            "http",
            """\
HTTP/1.1 200 OK

<script src="https://cdn.example/analytics.js"></script>
""",
        ),
        good=Example(
            "http",
            """\
HTTP/1.1 200 OK
Referrer-Policy: no-referrer
Content-Security-Policy: default-src 'self'; frame-ancestors 'none'
""",
        ),
        fix=(
            "Send `Referrer-Policy: no-referrer`, serve every asset yourself, and enforce it with "
            "a CSP."
        ),
    ),
    Entry(
        id="AS-35",
        slug="login-redirect-303",
        title="The redirect after the login POST is 303 or 302, never 307.",
        severity=Severity.MEDIUM,
        clause="RFC 9700 §4.12",
        what=(
            "After the user submits the login form, the server redirects with 303 See Other (302 "
            "is tolerated); never with 307 or 308."
        ),
        why=(
            "A 307 makes the browser repeat the POST, with the username and password in the body, "
            "to wherever the redirect points, including the client."
        ),
        bad=Example(
            "http",
            """\
POST /login  username=alice&password=hunter2

HTTP/1.1 307 Temporary Redirect
Location: https://app.example/cb?code=Splx...
""",
        ),
        good=Example(
            "http",
            """\
POST /login  username=alice&password=hunter2

HTTP/1.1 303 See Other
Location: /authorize?...
""",
        ),
        fix="Answer the login POST with 303 See Other.",
    ),
    Entry(
        id="AS-36",
        slug="no-cors-authorize",
        title="The authorization endpoint sends no CORS headers.",
        severity=Severity.MEDIUM,
        clause="RFC 6749 §3.1",
        what=(
            "Responses of the authorization endpoint carry no `Access-Control-Allow-Origin`, so "
            "other sites' scripts cannot read them."
        ),
        why=(
            "The endpoint is for top-level browser navigation. With CORS a hostile page can run "
            "the flow with the user's session in the background and read the code."
        ),
        bad=Example(
            "http",
            """\
GET /authorize?...
Origin: https://evil.example

HTTP/1.1 302 Found
Access-Control-Allow-Origin: *
""",
        ),
        good=Example(
            "http",
            """\
GET /authorize?...
Origin: https://evil.example

HTTP/1.1 302 Found
(no Access-Control-* headers)
""",
        ),
        fix=(
            "Do not add CORS headers to the authorization endpoint (the token and JWKS endpoints "
            "may have them)."
        ),
    ),
    Entry(
        id="AS-38",
        slug="consent-and-prompt-none",
        title=(
            "Consent is asked for a new client, and `prompt=none` without a session errors "
            "correctly."
        ),
        severity=Severity.MEDIUM,
        clause="OIDC Core §3.1.2.1, §3.1.2.6; RFC 6749 §10.2",
        what=(
            "The first authorization of a client by a user shows a consent page; `prompt=none` "
            "without a signed-in user returns `login_required` (or `consent_required`) to the "
            "client instead of showing a page or issuing a code."
        ),
        why=(
            "Silent consent lets any registered client obtain access by sending a user to a link. "
            "`prompt=none` that falls back to a page breaks silent checks and can trap users in "
            "frames."
        ),
        bad=Example(
            "http",
            """\
GET /authorize?...&prompt=none   (no session)

HTTP/1.1 200 OK
(the login page)
""",
        ),
        good=Example(
            "http",
            """\
GET /authorize?...&prompt=none   (no session)

HTTP/1.1 302 Found
Location: https://app.example/cb?error=login_required&state=xyz
""",
        ),
        fix=(
            "Record consent per user and client, ask when there is none, and answer `prompt=none` "
            "with the right error."
        ),
    ),
    Entry(
        id="AS-39",
        slug="response-type-required",
        title="A missing or unknown `response_type` is an error.",
        severity=Severity.LOW,
        clause="RFC 6749 §3.1.1",
        what=(
            "An authorization request without `response_type`, or with one the server does not "
            "support, is refused instead of being treated as `code`."
        ),
        why=(
            "Guessing what the client meant hides client bugs and makes the server's behaviour "
            "depend on defaults an attacker can lean on."
        ),
        bad=Example(
            "http",
            """\
GET /authorize?client_id=app&redirect_uri=https://app.example/cb

HTTP/1.1 302 Found
Location: https://app.example/cb?code=Splx...
""",
        ),
        good=Example(
            "http",
            """\
GET /authorize?client_id=app&redirect_uri=https://app.example/cb

HTTP/1.1 302 Found
Location: https://app.example/cb?error=invalid_request
""",
        ),
        fix="Refuse with `invalid_request` (missing) or `unsupported_response_type` (unknown).",
    ),
    Entry(
        id="AS-40",
        slug="revocation",
        title=(
            "Revocation exists, needs client authentication, and revokes only the client's own "
            "tokens."
        ),
        severity=Severity.MEDIUM,
        clause="RFC 7009 §2, §2.1",
        what=(
            "The metadata lists a `revocation_endpoint`; it refuses unauthenticated confidential "
            "clients, and a token belonging to another client is not revoked."
        ),
        why=(
            "Users and apps need a way to end a grant when a device is lost. Without "
            "authentication and ownership checks, anyone holding a token id could log out someone "
            "else's app."
        ),
        bad=Example(
            "http",
            """\
POST /revoke
token=(a token of another client)

HTTP/1.1 200 OK   (and the other client's token stops working)
""",
        ),
        good=Example(
            "http",
            """\
POST /revoke
Authorization: Basic (photo-printer credentials)
token=(a token of another client)

HTTP/1.1 200 OK   (nothing revoked: the token is not this client's)
""",
        ),
        fix=(
            "Implement RFC 7009 with client authentication, and revoke a token only when it was "
            "issued to the authenticated client."
        ),
    ),
    Entry(
        id="AS-43",
        slug="scope-no-escalation",
        title="Unregistered or escalated scopes are refused or narrowed.",
        severity=Severity.HIGH,
        clause="RFC 6749 §3.3, §6; RFC 9700 §2.3",
        what=(
            "Scopes a client is not registered for are refused or dropped (and the granted "
            "`scope` is returned); a refresh or token request cannot ask for more than was "
            "granted."
        ),
        why=(
            "Otherwise a client, or an attacker holding its refresh token, upgrades a narrow "
            "grant into a broad one the user never approved."
        ),
        bad=Example(
            "http",
            """\
POST /token  grant_type=refresh_token&refresh_token=...&scope=photos:read%20admin

HTTP/1.1 200 OK
{"access_token": "...", "scope": "photos:read admin"}
""",
        ),
        good=Example(
            "http",
            """\
POST /token  grant_type=refresh_token&refresh_token=...&scope=photos:read%20admin

HTTP/1.1 400 Bad Request
{"error": "invalid_scope"}
""",
        ),
        fix=(
            "Intersect requested scopes with the client's registered ones and with the original "
            "grant, and return the result in `scope`."
        ),
    ),
)

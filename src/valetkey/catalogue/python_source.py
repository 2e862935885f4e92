"""The OA ids: pitfalls `valetkey audit` finds in Python source.

Each example pair is run by the tests: the bad one must raise the finding, the good one
must stay silent.
"""

from __future__ import annotations

from valetkey.catalogue.entry import Entry, Example, Severity

ENTRIES: tuple[Entry, ...] = (
    Entry(
        id="OA101",
        slug="state-missing",
        title="An authorization request for the code flow is built without `state`.",
        severity=Severity.HIGH,
        clause="RFC 6749 §10.12; RFC 9700 §2.1, §4.7",
        what=(
            "An authorization request for the code flow must carry a `state` value that the "
            "callback can check."
        ),
        why=(
            "Without `state` the callback cannot tell its own authorization response from one an "
            "attacker started, so a victim can be logged into the attacker's account (login "
            "CSRF). RFC 6749 §10.12 requires CSRF protection of the redirect URI; RFC 9700 §4.7 "
            "keeps `state` (or PKCE) as that protection."
        ),
        bad=Example(
            "python",
            """\
from urllib.parse import urlencode

from flask import Flask, redirect

app = Flask(__name__)

@app.route("/login")
def login():
    query = urlencode({"response_type": "code", "client_id": "photo-printer",
                       "redirect_uri": "https://printer.example/callback"})
    return redirect("https://auth.example/authorize?" + query)
""",
        ),
        good=Example(
            "python",
            """\
import secrets
from urllib.parse import urlencode

from flask import Flask, redirect, session

app = Flask(__name__)

@app.route("/login")
def login():
    session["oauth_state"] = secrets.token_urlsafe(32)
    query = urlencode({"response_type": "code", "client_id": "photo-printer",
                       "redirect_uri": "https://printer.example/callback",
                       "state": session["oauth_state"]})
    return redirect("https://auth.example/authorize?" + query)
""",
        ),
        fix="Generate `state = secrets.token_urlsafe(32)`, keep it in the session and send it.",
        references=(
            "https://www.rfc-editor.org/rfc/rfc6749#section-10.12",
            "https://www.rfc-editor.org/rfc/rfc9700#section-4.7",
        ),
    ),
    Entry(
        id="OA102",
        slug="state-weak",
        title="State, nonce or PKCE verifier comes from a guessable source.",
        severity=Severity.HIGH,
        clause="RFC 6749 §10.10; RFC 9700 §2.1.1",
        what=(
            "State, nonce and the PKCE verifier must come from a CSPRNG (`secrets`) and carry at "
            "least 128 bits."
        ),
        why=(
            "RFC 6749 §10.10 requires that an attacker's chance of guessing such a value be at "
            "most 2^-128; RFC 9700 §2.1.1 relies on unguessable state and verifiers."
        ),
        bad=Example(
            "python",
            """\
import random

from requests_oauthlib import OAuth2Session

def start(client: OAuth2Session) -> str:
    url, _ = client.authorization_url(
        "https://auth.example/authorize", state=str(random.getrandbits(64))
    )
    return url
""",
        ),
        good=Example(
            "python",
            """\
import secrets

from requests_oauthlib import OAuth2Session

def start(client: OAuth2Session) -> str:
    url, _ = client.authorization_url(
        "https://auth.example/authorize", state=secrets.token_urlsafe(32)
    )
    return url
""",
        ),
        fix="Use `secrets.token_urlsafe(32)` (256 bits) for state, nonce and the PKCE verifier.",
        references=(
            "https://www.rfc-editor.org/rfc/rfc6749#section-10.10",
            "https://www.rfc-editor.org/rfc/rfc9700#section-2.1.1",
        ),
    ),
    Entry(
        id="OA103",
        slug="state-unverified",
        title=(
            "The callback uses the code without rejecting a state that differs from the session's."
        ),
        severity=Severity.HIGH,
        clause="RFC 6749 §10.12; RFC 9700 §4.7.1",
        what=(
            "The callback must compare the returned `state` with the value kept in this browser's "
            "session and stop when they differ, before it redeems the code."
        ),
        why=(
            "RFC 6749 §10.12 and RFC 9700 §4.7.1 require the client to bind the authorization "
            "response to the user agent that started the flow; otherwise an attacker's code and "
            "state can be injected into a victim's browser (login CSRF)."
        ),
        bad=Example(
            "python",
            """\
import os

import requests
from flask import Flask, request, session

app = Flask(__name__)

@app.route("/callback")
def callback():
    if request.args.get("state") != session.get("oauth_state"):
        return "bad state", 400
    reply = requests.post("https://auth.example/token", timeout=10,
                          auth=("printer", os.environ["PRINTER_SECRET"]), data={
        "grant_type": "authorization_code", "code": request.args["code"]})
    return reply.json()["token_type"]
""",
        ),
        good=Example(
            "python",
            """\
import os
import secrets

import requests
from flask import Flask, abort, request, session

app = Flask(__name__)

@app.route("/callback")
def callback():
    expected = session.pop("oauth_state", None)
    returned = request.args.get("state", "")
    if not expected or not secrets.compare_digest(returned, expected):
        abort(400)
    reply = requests.post("https://auth.example/token", timeout=10,
                          auth=("printer", os.environ["PRINTER_SECRET"]), data={
        "grant_type": "authorization_code", "code": request.args["code"]})
    return reply.json()["token_type"]
""",
        ),
        fix=(
            "Compare the returned state with the one in the session and stop (400) when they "
            "differ."
        ),
        references=(
            "https://www.rfc-editor.org/rfc/rfc6749#section-10.12",
            "https://www.rfc-editor.org/rfc/rfc9700#section-4.7.1",
        ),
    ),
    Entry(
        id="OA104",
        slug="redirect-uri-not-exact",
        title="The `redirect_uri` is not one exact, fixed https URI.",
        severity=Severity.HIGH,
        clause="RFC 6749 §3.1.2; RFC 9700 §2.1, §4.1; RFC 8252 §7.3",
        what=(
            "The `redirect_uri` must be one fixed, registered URI: https, or http only to "
            "loopback; never built from the request."
        ),
        why=(
            "RFC 6749 §3.1.2 and RFC 9700 §4.1 require exact redirect URI matching; a URI built "
            "from the Host header lets an attacker steer codes to a host they choose when the "
            "server matches loosely, and plain http exposes the code on the network (RFC 8252 "
            "§7.3 allows http only for loopback)."
        ),
        bad=Example(
            "python",
            """\
from flask import Flask, request
from requests_oauthlib import OAuth2Session

app = Flask(__name__)

@app.route("/login")
def login():
    client = OAuth2Session("printer", redirect_uri=request.host_url + "callback")
    url, _state = client.authorization_url("https://auth.example/authorize")
    return url
""",
        ),
        good=Example(
            "python",
            """\
import os

from flask import Flask
from requests_oauthlib import OAuth2Session

app = Flask(__name__)
CALLBACK = os.environ["PRINTER_REDIRECT_URI"]

@app.route("/login")
def login():
    client = OAuth2Session("printer", redirect_uri=CALLBACK)
    url, _state = client.authorization_url("https://auth.example/authorize")
    return url
""",
        ),
        fix=(
            "Use one fixed, registered https redirect URI from configuration, never the request's "
            "host."
        ),
        references=(
            "https://www.rfc-editor.org/rfc/rfc6749#section-3.1.2",
            "https://www.rfc-editor.org/rfc/rfc9700#section-4.1",
            "https://www.rfc-editor.org/rfc/rfc8252#section-7.3",
        ),
    ),
    Entry(
        id="OA105",
        slug="client-secret-in-code",
        title="A client secret is a string literal in the code.",
        severity=Severity.HIGH,
        clause="RFC 6819 §4.1.1; RFC 9700 §2.5",
        what=(
            "A client secret comes from the environment or a secret store, never from a literal "
            "in the code."
        ),
        why=(
            "A secret in source code is shared with everyone who can read the repository, its "
            "history and the built artefacts (RFC 6819 §4.1.1); RFC 9700 §2.5 expects "
            "confidential clients to keep their credentials confidential."
        ),
        bad=Example(
            "python",
            """\
from authlib.integrations.flask_client import OAuth
from flask import Flask

app = Flask(__name__)
oauth = OAuth(app)
oauth.register("photos", client_id="printer", client_secret="s3cr3t-9f8e7d",
               server_metadata_url="https://auth.example/.well-known/openid-configuration")
""",
        ),
        good=Example(
            "python",
            """\
import os

from authlib.integrations.flask_client import OAuth
from flask import Flask

app = Flask(__name__)
oauth = OAuth(app)
oauth.register("photos", client_id="printer",
               client_secret=os.environ["PHOTOS_CLIENT_SECRET"],
               server_metadata_url="https://auth.example/.well-known/openid-configuration")
""",
        ),
        fix=(
            "Read the client secret from the environment or a secret store, with no literal "
            "default."
        ),
        references=(
            "https://www.rfc-editor.org/rfc/rfc6819#section-4.1.1",
            "https://www.rfc-editor.org/rfc/rfc9700#section-2.5",
        ),
    ),
    Entry(
        id="OA106",
        slug="implicit-flow",
        title="The authorization request asks for a token in the front channel.",
        severity=Severity.HIGH,
        clause="RFC 9700 §2.1.2, §4.1.2",
        what=(
            "The client asks for `response_type=code`; no response type that puts a token in the "
            "browser's URL."
        ),
        why=(
            "RFC 9700 §2.1.2 says clients should not use the implicit grant or other response "
            "types that issue access tokens in the authorization response: the token lands in the "
            "browser history, referrers and logs, and cannot be sender-constrained (§4.1.2)."
        ),
        bad=Example(
            "python",
            """\
AUTHORIZE = "https://auth.example/authorize"

def login_url(client_id: str, callback: str, state: str) -> str:
    return (f"{AUTHORIZE}?response_type=token&client_id={client_id}"
            f"&redirect_uri={callback}&state={state}")
""",
        ),
        good=Example(
            "python",
            """\
AUTHORIZE = "https://auth.example/authorize"

def login_url(client_id: str, callback: str, state: str, challenge: str) -> str:
    return (f"{AUTHORIZE}?response_type=code&client_id={client_id}"
            f"&redirect_uri={callback}&state={state}"
            f"&code_challenge={challenge}&code_challenge_method=S256")
""",
        ),
        fix="Use `response_type=code` with PKCE; get tokens from the token endpoint.",
        references=("https://www.rfc-editor.org/rfc/rfc9700#section-2.1.2",),
    ),
    Entry(
        id="OA107",
        slug="pkce-missing-public",
        title="A public client redeems a code without PKCE, or PKCE uses the `plain` method.",
        severity=Severity.HIGH,
        clause="RFC 7636 §4; RFC 9700 §2.1.1",
        what=(
            "A public client sends an S256 PKCE challenge and its verifier; `plain` is not PKCE "
            "worth the name."
        ),
        why=(
            "A public client cannot authenticate, so an intercepted code is redeemable by anyone "
            "unless PKCE binds it to the client that started the flow (RFC 7636 §1); RFC 9700 "
            "§2.1.1 requires PKCE for public clients and recommends S256, since `plain` exposes "
            "the verifier in the authorization request."
        ),
        bad=Example(
            "python",
            """\
from requests_oauthlib import OAuth2Session

def finish(callback_url: str) -> dict[str, str]:
    client = OAuth2Session("cli-app", redirect_uri="http://127.0.0.1:8765/cb")
    return client.fetch_token("https://auth.example/token", timeout=10,
                              authorization_response=callback_url)
""",
        ),
        good=Example(
            "python",
            """\
from requests_oauthlib import OAuth2Session

def finish(callback_url: str, verifier: str) -> dict[str, str]:
    client = OAuth2Session("cli-app", redirect_uri="http://127.0.0.1:8765/cb")
    return client.fetch_token("https://auth.example/token", timeout=10,
                              authorization_response=callback_url,
                              code_verifier=verifier)
""",
        ),
        fix=(
            "Send an S256 `code_challenge` and the `code_verifier` (requests-oauthlib: "
            "`OAuth2Session(..., pkce='S256')`; Authlib: `code_challenge_method='S256'`)."
        ),
        references=(
            "https://www.rfc-editor.org/rfc/rfc7636#section-4",
            "https://www.rfc-editor.org/rfc/rfc9700#section-2.1.1",
        ),
    ),
    Entry(
        id="OA108",
        slug="scope-overbroad",
        title="The requested scopes are far broader than a login needs.",
        severity=Severity.MEDIUM,
        clause="RFC 9700 §2.3; RFC 6819 §4.2.2",
        what="The client asks only for the scopes it uses; a policy file can pin the allowed set.",
        why=(
            "RFC 9700 §2.3 asks clients to request the minimum privileges; a stolen token with "
            "broad scopes turns a login bug into a data breach (RFC 6819 §4.2.2)."
        ),
        bad=Example(
            "python",
            """\
from flask_dance.contrib.github import make_github_blueprint

blueprint = make_github_blueprint(scope="repo user")
""",
        ),
        good=Example(
            "python",
            """\
from flask_dance.contrib.github import make_github_blueprint

blueprint = make_github_blueprint(scope="read:user user:email")
""",
        ),
        fix=(
            "Request only what the code uses (e.g. `read:user user:email`, `openid email "
            "profile`); list allowed scopes under [tool.valetkey] allowed-scopes."
        ),
        references=(
            "https://www.rfc-editor.org/rfc/rfc9700#section-2.3",
            "https://www.rfc-editor.org/rfc/rfc6819#section-4.2.2",
        ),
    ),
    Entry(
        id="OA109",
        slug="secret-logged",
        title=(
            "A token, authorization code or client secret is printed, logged or sent to the "
            "browser."
        ),
        severity=Severity.MEDIUM,
        clause="RFC 9700 §4.9; CWE-532",
        what=(
            "Tokens, codes and client secrets never go to print, a log, an exception message or a "
            "page."
        ),
        why=(
            "Logs and pages are read by many more people and systems than the token store; RFC "
            "9700 §4.9 lists leakage through logs and referrers, and CWE-532 covers secrets in "
            "log files. A token handed to the browser also loses the benefit of a confidential "
            "client."
        ),
        bad=Example(
            "python",
            """\
import logging

from requests_oauthlib import OAuth2Session

log = logging.getLogger(__name__)

def finish(client: OAuth2Session, callback_url: str, secret: str) -> None:
    token = client.fetch_token("https://auth.example/token", client_secret=secret,
                               authorization_response=callback_url, timeout=10)
    log.info("got token %s", token["access_token"])
""",
        ),
        good=Example(
            "python",
            """\
import logging

from requests_oauthlib import OAuth2Session

log = logging.getLogger(__name__)

def finish(client: OAuth2Session, callback_url: str, secret: str) -> None:
    token = client.fetch_token("https://auth.example/token", client_secret=secret,
                               authorization_response=callback_url, timeout=10)
    log.info("got a token that expires in %s s", token["expires_in"])
""",
        ),
        fix=(
            "Log that a token was received, never the token, code or secret; keep tokens server "
            "side."
        ),
        references=(
            "https://www.rfc-editor.org/rfc/rfc9700#name-leakage-of-tokens-and-codes",
            "https://cwe.mitre.org/data/definitions/532.html",
        ),
    ),
    Entry(
        id="OA110",
        slug="tls-verification-disabled",
        title="TLS verification is disabled on OAuth traffic, or the back channel is plain http.",
        severity=Severity.HIGH,
        clause="RFC 6749 §10.9; RFC 9700 §2.6",
        what="OAuth back-channel calls verify TLS and go to https endpoints (loopback excepted).",
        why=(
            "RFC 6749 §10.9 requires the client to verify the server's TLS certificate when it "
            "sends credentials or receives tokens; RFC 9700 §2.6 requires TLS for all OAuth "
            "endpoints except loopback redirects."
        ),
        bad=Example(
            "python",
            """\
import requests

def redeem(code: str, secret: str) -> dict[str, str]:
    reply = requests.post("https://auth.example/oauth/token", verify=False, timeout=10,
                          data={"grant_type": "authorization_code", "code": code},
                          auth=("printer", secret))
    return reply.json()
""",
        ),
        good=Example(
            "python",
            """\
import requests

def redeem(code: str, secret: str) -> dict[str, str]:
    reply = requests.post("https://auth.example/oauth/token", timeout=10,
                          data={"grant_type": "authorization_code", "code": code},
                          auth=("printer", secret))
    return reply.json()
""",
        ),
        fix=(
            "Keep certificate verification on (the default) and use https endpoints; for a local "
            "test provider use a loopback http URL instead."
        ),
        references=(
            "https://www.rfc-editor.org/rfc/rfc6749#section-10.9",
            "https://www.rfc-editor.org/rfc/rfc9700#section-2.6",
        ),
    ),
    Entry(
        id="OA111",
        slug="no-timeout",
        title="An OAuth back-channel call can wait forever.",
        severity=Severity.LOW,
        clause="robustness (Bandit B113)",
        what="Every call to the token, userinfo or JWKS endpoint has a timeout.",
        why=(
            "`requests` has no default timeout; a provider that stops answering ties up a worker "
            "per login until the process is restarted, an easy denial of service."
        ),
        bad=Example(
            "python",
            """\
import requests

def profile(access_token: str) -> dict[str, str]:
    reply = requests.get("https://api.example/userinfo",
                         headers={"Authorization": f"Bearer {access_token}"})
    return reply.json()
""",
        ),
        good=Example(
            "python",
            """\
import requests

def profile(access_token: str) -> dict[str, str]:
    reply = requests.get("https://api.example/userinfo", timeout=10,
                         headers={"Authorization": f"Bearer {access_token}"})
    return reply.json()
""",
        ),
        fix="Pass `timeout=10` (or another bound) to every token, userinfo and JWKS call.",
        references=("https://requests.readthedocs.io/en/latest/user/advanced/#timeouts",),
    ),
    Entry(
        id="OA112",
        slug="id-token-unverified",
        title="An ID token is read without verifying its signature and claims.",
        severity=Severity.HIGH,
        clause="OIDC Core §3.1.3.7; RFC 8725 §3.1",
        what=(
            "An ID token is used only after its signature (with pinned algorithms), `iss`, `aud` "
            "and `exp` are verified."
        ),
        why=(
            "OIDC Core §3.1.3.7 requires the client to validate the ID token's signature, issuer, "
            "audience and expiry before using it; RFC 8725 §3.1 requires the client to pin the "
            "algorithms it accepts, never trusting `alg` from the token."
        ),
        bad=Example(
            "python",
            """\
import jwt

def user_id(token_response: dict[str, str]) -> str:
    claims = jwt.decode(token_response["id_token"], options={"verify_signature": False})
    return claims["sub"]
""",
        ),
        good=Example(
            "python",
            """\
import jwt

JWKS = jwt.PyJWKClient("https://auth.example/jwks")

def user_id(token_response: dict[str, str]) -> str:
    raw = token_response["id_token"]
    key = JWKS.get_signing_key_from_jwt(raw).key
    claims = jwt.decode(raw, key, algorithms=["RS256"], audience="printer",
                        issuer="https://auth.example")
    return claims["sub"]
""",
        ),
        fix=(
            "Verify the signature with the provider's JWKS, pin the algorithms (e.g. ['RS256']) "
            "and check `iss`, `aud` and `exp` (PyJWT: audience=..., issuer=...)."
        ),
        references=(
            "https://openid.net/specs/openid-connect-core-1_0.html#IDTokenValidation",
            "https://www.rfc-editor.org/rfc/rfc8725#section-3.1",
        ),
    ),
    Entry(
        id="OA113",
        slug="nonce-missing",
        title="An OpenID Connect login uses the ID token without a nonce sent, kept and compared.",
        severity=Severity.MEDIUM,
        clause="OIDC Core §3.1.2.1, §3.1.3.7; RFC 9700 §4.5.3.2",
        what=(
            "An OpenID Connect login sends a fresh nonce, keeps it with the session and compares "
            "it with the ID token's."
        ),
        why=(
            "OIDC Core §3.1.2.1 and §3.1.3.7 bind the ID token to the browser session through the "
            "nonce; without it an ID token obtained elsewhere can be replayed (RFC 9700 "
            "§4.5.3.2)."
        ),
        bad=Example(
            "python",
            """\
from requests_oauthlib import OAuth2Session

client = OAuth2Session("printer", scope=["openid", "email"],
                       redirect_uri="https://printer.example/cb")

def start() -> str:
    return client.authorization_url("https://auth.example/authorize")[0]

def finish(url: str, secret: str, decode) -> dict[str, str]:
    token = client.fetch_token("https://auth.example/token", client_secret=secret,
                               authorization_response=url, timeout=10)
    return decode(token["id_token"])
""",
        ),
        good=Example(
            "python",
            """\
from requests_oauthlib import OAuth2Session

client = OAuth2Session("printer", scope=["openid", "email"],
                       redirect_uri="https://printer.example/cb")

def start(nonce: str) -> str:
    return client.authorization_url("https://auth.example/authorize", nonce=nonce)[0]

def finish(url: str, secret: str, decode, nonce: str) -> dict[str, str]:
    token = client.fetch_token("https://auth.example/token", client_secret=secret,
                               authorization_response=url, timeout=10)
    claims = decode(token["id_token"])
    if claims["nonce"] != nonce:
        raise PermissionError("nonce mismatch")
    return claims
""",
        ),
        fix=(
            "Send a fresh `nonce`, keep it in the session and compare it with the ID token's "
            "`nonce` claim (Authlib's authorize_redirect/authorize_access_token do this)."
        ),
        references=(
            "https://openid.net/specs/openid-connect-core-1_0.html#AuthRequest",
            "https://www.rfc-editor.org/rfc/rfc9700#section-4.5.3.2",
        ),
    ),
    Entry(
        id="OA114",
        slug="token-in-url",
        title="An access token is sent in the URL query instead of the Authorization header.",
        severity=Severity.MEDIUM,
        clause="RFC 6750 §2.3; RFC 9700 §4.3.2",
        what="Access tokens travel in the `Authorization: Bearer` header, not in the URL.",
        why=(
            "URLs end up in server logs, proxies, browser history and referrers; RFC 6750 §2.3 "
            "advises against the query method and RFC 9700 §4.3.2 forbids it for access tokens."
        ),
        bad=Example(
            "python",
            """\
import httpx

async def photos(token: str) -> list[str]:
    async with httpx.AsyncClient() as client:
        reply = await client.get("https://api.example/photos",
                                 params={"access_token": token})
    return reply.json()
""",
        ),
        good=Example(
            "python",
            """\
import httpx

async def photos(token: str) -> list[str]:
    async with httpx.AsyncClient() as client:
        reply = await client.get("https://api.example/photos",
                                 headers={"Authorization": f"Bearer {token}"})
    return reply.json()
""",
        ),
        fix='Send the token in the header: `headers={"Authorization": f"Bearer {token}"}`.',
        references=(
            "https://www.rfc-editor.org/rfc/rfc6750#section-2.3",
            "https://www.rfc-editor.org/rfc/rfc9700#section-4.3.2",
        ),
    ),
    Entry(
        id="OA115",
        slug="open-redirect-after-login",
        title="A redirect goes to a URL the user supplied, unchecked.",
        severity=Severity.MEDIUM,
        clause="RFC 9700 §4.11.1; CWE-601",
        what=(
            "After login the app redirects only to its own paths, never to a URL taken from the "
            "request unchecked."
        ),
        why=(
            "RFC 9700 §4.11.1: an open redirector on the client lets attackers forward users (and "
            "sometimes codes or tokens in the URL) to a site of their choice; phishing right "
            "after a real login is very convincing (CWE-601)."
        ),
        bad=Example(
            "python",
            """\
from flask import Flask, redirect, request, session

app = Flask(__name__)

@app.route("/login")
def login():
    session["after_login"] = request.args.get("next", "/")
    return redirect("/start-oauth")

@app.route("/done")
def done():
    return redirect(session.pop("after_login", "/"))
""",
        ),
        good=Example(
            "python",
            """\
from urllib.parse import urlsplit

from flask import Flask, redirect, request, session

app = Flask(__name__)

@app.route("/login")
def login():
    target = request.args.get("next", "/")
    parts = urlsplit(target)
    session["after_login"] = target if not parts.netloc and not parts.scheme else "/"
    return redirect("/start-oauth")

@app.route("/done")
def done():
    return redirect(session.pop("after_login", "/"))
""",
        ),
        fix=(
            "Redirect only to a path of this site: check with `url_has_allowed_host_and_scheme` "
            "(Django) or compare the parsed netloc with your host."
        ),
        references=(
            "https://www.rfc-editor.org/rfc/rfc9700#section-4.11.1",
            "https://cwe.mitre.org/data/definitions/601.html",
        ),
    ),
    Entry(
        id="OA116",
        slug="session-key-in-code",
        title="The key that signs the session (where state, nonce and verifier live) is a literal.",
        severity=Severity.HIGH,
        clause="lesson checklist; CWE-798",
        what=(
            "The session signing key comes from the environment or a secret store, never from a "
            "literal."
        ),
        why=(
            "Whoever knows the key can forge session cookies, and with them the stored state, "
            "nonce and PKCE verifier, which defeats every CSRF defence of the flow (CWE-798)."
        ),
        bad=Example(
            "python",
            """\
from fastapi import FastAPI
from starlette.middleware.sessions import SessionMiddleware

app = FastAPI()
app.add_middleware(SessionMiddleware, secret_key="change-me-please")
""",
        ),
        good=Example(
            "python",
            """\
import os

from fastapi import FastAPI
from starlette.middleware.sessions import SessionMiddleware

app = FastAPI()
app.add_middleware(SessionMiddleware, secret_key=os.environ["SESSION_SECRET"])
""",
        ),
        fix=(
            "Load the session signing key from the environment (e.g. `os.environ['SECRET_KEY']`), "
            "generated with `secrets.token_hex(32)`."
        ),
        references=("https://cwe.mitre.org/data/definitions/798.html",),
    ),
    Entry(
        id="OA117",
        slug="access-token-as-identity",
        title="A user is logged in from an access token that came from the browser or an app.",
        severity=Severity.HIGH,
        clause="RFC 6819 §4.4.1.13; OIDC Core §3.1.3.7",
        what=(
            "A user is signed in from an ID token verified for this client, not from an access "
            "token or a userinfo answer alone."
        ),
        why=(
            "RFC 6819 §4.4.1.13 (token substitution) and OIDC Core §3.1.3.7: only an ID token "
            "whose `aud` is this client, or a code this client redeemed, identifies the user to "
            "it."
        ),
        bad=Example(
            "python",
            """\
import requests
from flask import Flask, request, session

app = Flask(__name__)

@app.post("/api/login")
def api_login():
    token = request.json["access_token"]
    me = requests.get("https://api.example/userinfo", timeout=10,
                      headers={"Authorization": f"Bearer {token}"}).json()
    session["user"] = me["sub"]
    return {"ok": True}
""",
        ),
        good=Example(
            "python",
            """\
import requests
from flask import Flask, request

app = Flask(__name__)

@app.get("/api/photos")
def api_photos():
    token = request.headers["Authorization"].removeprefix("Bearer ")
    reply = requests.get("https://api.example/photos", timeout=10,
                         headers={"Authorization": f"Bearer {token}"})
    return reply.json()
""",
        ),
        fix=(
            "Log users in from an ID token verified for this client (aud = your client_id), or "
            "from a code your app redeemed itself; never from a token a browser or app posts."
        ),
        references=(
            "https://www.rfc-editor.org/rfc/rfc6819#section-4.4.1.13",
            "https://openid.net/specs/openid-connect-core-1_0.html#IDTokenValidation",
        ),
    ),
    Entry(
        id="OA118",
        slug="password-grant",
        title="The resource-owner password grant is used.",
        severity=Severity.HIGH,
        clause="RFC 9700 §2.4",
        what="No resource-owner password grant; use the authorization-code flow with PKCE.",
        why=(
            "RFC 9700 §2.4: the password grant must not be used. It gives the user's password to "
            "the client, which is exactly what OAuth exists to avoid, and it cannot support "
            "multi-factor authentication or consent."
        ),
        bad=Example(
            "python",
            """\
import requests

def login(user: str, password: str, secret: str) -> str:
    reply = requests.post("https://auth.example/token", timeout=10, auth=("cli", secret),
                          data={"grant_type": "password", "username": user,
                                "password": password})
    return reply.json()["expires_in"]
""",
        ),
        good=Example(
            "python",
            """\
import requests

def refresh(refresh_token: str, secret: str) -> str:
    reply = requests.post("https://auth.example/token", timeout=10, auth=("cli", secret),
                          data={"grant_type": "refresh_token",
                                "refresh_token": refresh_token})
    return reply.json()["expires_in"]
""",
        ),
        fix=(
            "Use the authorization-code flow with PKCE (or the device flow for input-limited "
            "devices)."
        ),
        references=("https://www.rfc-editor.org/rfc/rfc9700#section-2.4",),
    ),
    Entry(
        id="OA119",
        slug="state-reusable",
        title="The stored state is never removed after the callback, so it can be replayed.",
        severity=Severity.MEDIUM,
        clause="RFC 9700 §4.2.4",
        what="The stored state is removed when the callback reads it, so a value works once.",
        why=(
            "A state value must be used once (RFC 9700 §4.2.4 and §4.7); a state that stays valid "
            "lets a captured authorization response be replayed in the same session."
        ),
        bad=Example(
            "python",
            """\
from flask import Flask, abort, request, session

app = Flask(__name__)

@app.route("/callback")
def callback():
    if request.args["state"] != session["oauth_state"]:
        abort(400)
    return {"code_length": len(request.args["code"])}
""",
        ),
        good=Example(
            "python",
            """\
from flask import Flask, abort, request, session

app = Flask(__name__)

@app.route("/callback")
def callback():
    if request.args["state"] != session.pop("oauth_state"):
        abort(400)
    return {"code_length": len(request.args["code"])}
""",
        ),
        fix=(
            "Take the state out of the session when the callback reads it: `session.pop(key, "
            "None)`."
        ),
        references=("https://www.rfc-editor.org/rfc/rfc9700#section-4.2.4",),
    ),
    Entry(
        id="OA120",
        slug="account-linked-by-email",
        title="A local account is found or linked by the `email` or `preferred_username` claim.",
        severity=Severity.HIGH,
        clause="OIDC Core §5.7",
        what=(
            "Local accounts are keyed by (`iss`, `sub`); `email` links an account only when "
            "verified and by deliberate choice."
        ),
        why=(
            "OIDC Core §5.7: only `iss` + `sub` identify an end-user; email and username can be "
            "changed, reassigned or unverified at the provider, so linking by them lets another "
            "provider account take over a local account."
        ),
        bad=Example(
            "python",
            """\
import requests

USERS: dict[str, dict[str, str]] = {}

def find_user(access_token: str) -> dict[str, str] | None:
    me = requests.get("https://auth.example/userinfo", timeout=10,
                      headers={"Authorization": f"Bearer {access_token}"}).json()
    return USERS.get(me["email"])
""",
        ),
        good=Example(
            "python",
            """\
import requests

USERS: dict[tuple[str, str], dict[str, str]] = {}

def find_user(access_token: str) -> dict[str, str] | None:
    me = requests.get("https://auth.example/userinfo", timeout=10,
                      headers={"Authorization": f"Bearer {access_token}"}).json()
    return USERS.get(("https://auth.example", me["sub"]))
""",
        ),
        fix=(
            "Find and link accounts by the pair (`iss`, `sub`); use email only for display, and "
            "only when `email_verified` is true."
        ),
        references=("https://openid.net/specs/openid-connect-core-1_0.html#ClaimStability",),
    ),
    Entry(
        id="OA121",
        slug="mix-up-unchecked",
        title="Several providers share a callback that never checks which issuer answered.",
        severity=Severity.MEDIUM,
        clause="RFC 9700 §4.4; RFC 9207",
        what=(
            "A callback shared by several providers checks which issuer answered (`iss`, or one "
            "redirect URI per provider)."
        ),
        why=(
            "RFC 9700 §4.4 (mix-up attacks): with several authorization servers, an attacker's "
            "server can make the client send a code from an honest server to the attacker. RFC "
            "9207 adds `iss` to the response so the client can tell which server answered."
        ),
        bad=Example(
            "python",
            """\
from authlib.integrations.flask_client import OAuth
from flask import Flask

app = Flask(__name__)
oauth = OAuth(app)
oauth.register("photos",
               server_metadata_url="https://photos.example/.well-known/openid-configuration")
oauth.register("prints",
               server_metadata_url="https://prints.example/.well-known/openid-configuration")

@app.route("/callback/<name>")
def callback(name):
    token = oauth.create_client(name).authorize_access_token()
    return {"scope": token["scope"]}
""",
        ),
        good=Example(
            "python",
            """\
from authlib.integrations.flask_client import OAuth
from flask import Flask, abort, request, session

app = Flask(__name__)
oauth = OAuth(app)
oauth.register("photos",
               server_metadata_url="https://photos.example/.well-known/openid-configuration")
oauth.register("prints",
               server_metadata_url="https://prints.example/.well-known/openid-configuration")

@app.route("/callback/<name>")
def callback(name):
    client = oauth.create_client(name)
    if request.args.get("iss") != session.get("issuer") or not session.get("issuer"):
        abort(400)
    token = client.authorize_access_token()
    return {"scope": token["scope"]}
""",
        ),
        fix=(
            "Check the `iss` parameter of the response against the provider the flow started with "
            "(RFC 9207), or give each provider its own redirect URI and check it."
        ),
        references=(
            "https://www.rfc-editor.org/rfc/rfc9700#section-4.4",
            "https://www.rfc-editor.org/rfc/rfc9207",
        ),
    ),
)

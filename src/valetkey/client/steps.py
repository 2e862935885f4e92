"""The photo-printer app, step by step: every safeguard of the authorization-code flow
written out where a reader can see it.

Step 1  /login      state, nonce and PKCE verifier from `secrets`, kept on the server for
                    this browser; the browser is sent to the authorization endpoint.
Step 2              (the user signs in and consents at the provider; the app sees nothing)
Step 3  /callback   error responses handled; state compared in constant time and used once;
                    RFC 9207 `iss` checked; only then is the code used.
Step 4              the code is exchanged on the back channel with the client secret and the
                    PKCE verifier; the ID token is verified and says who the user is.
Step 5  /photos     the access token goes only to the photos API, in the header.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import secrets

import httpx
from flask import Flask, redirect, render_template, request
from werkzeug.wrappers import Response

from valetkey.client.browsers import COOKIE, Pending, SignedIn
from valetkey.client.config import ClientConfig, ClientLab
from valetkey.client.id_token import IdTokenError, fetch_keys, verify_id_token
from valetkey.client.web import SignInFlow, SignInRefused, add_shell_routes, new_app
from valetkey.oauth.authorization_request import AuthorizationRequest
from valetkey.oauth.scope import Scope

log = logging.getLogger("valetkey.client")


def _s256(verifier: str) -> str:
    """RFC 7636 §4.2: BASE64URL(SHA256(verifier))."""
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


class StepByStep(SignInFlow):
    def redirect_uri(self) -> str:
        """Always the registered one, never built from the request (RFC 9700 §4.1; LC-11)."""
        return self.config.redirect_uri

    # -- the shell's two steps ---------------------------------------------------------------

    def start_sign_in(self) -> str | Response:
        if ClientLab.ASK_PASSWORD in self.config.lab:
            return render_template("ask_password.html")
        session, _ = self.browsers.create()
        return _with_cookie(redirect(self.authorization_url(session), 302), session)

    def finish_sign_in(self) -> SignedIn:
        pending, code = self.check_response(_session_id())
        return self.identify(pending, self.exchange(pending, code))

    # -- step 1 -----------------------------------------------------------------------------

    def authorization_url(self, session_id: str) -> str:
        pending = Pending(
            state=secrets.token_urlsafe(32),  # 256 bits (RFC 6749 §10.10; OA102)
            nonce=secrets.token_urlsafe(32),  # OIDC Core §3.1.2.1
            verifier=secrets.token_urlsafe(64),  # RFC 7636 §4.1: 86 characters
        )
        self.browsers.start(session_id, pending)
        request = AuthorizationRequest(
            response_type="code",  # never a token in the front channel (RFC 9700 §2.1.2)
            client_id=self.config.client_id,
            redirect_uri=self.redirect_uri(),  # exact, from configuration (OA104)
            scope=Scope.lenient(self.config.scope),  # minimal (RFC 9700 §2.3)
            state=pending.state,
            nonce=pending.nonce if self.provider.kind != "github" else None,  # GitHub: no OIDC
            code_challenge=_s256(pending.verifier),
            code_challenge_method="S256",
        )
        return request.url(self.provider.authorization_endpoint)

    # -- step 3 -----------------------------------------------------------------------------

    def check_response(self, session_id: str | None) -> tuple[Pending, str]:
        args = request.args
        error = args.get("error")
        pending = self._pending(session_id, args.get("state"))
        if error is not None:
            raise SignInRefused(
                "Sign-in was not completed", f"The provider answered: {error}. Nothing was shared."
            )
        if pending is None:
            raise SignInRefused(
                "This sign-in link is not for this browser",
                "No sign-in was started here, or it was already used. "
                "Start again from the home page.",
            )
        if self.provider.iss_parameter_supported and args.get("iss") != self.provider.issuer:
            raise SignInRefused(
                "The answer came from the wrong provider",  # RFC 9207 §2.4
                "The iss parameter does not name the provider you chose.",
            )
        code = args.get("code")
        if not code:
            raise SignInRefused("The provider sent no code", "Start again from the home page.")
        return pending, code

    def _pending(self, session_id: str | None, returned: str | None) -> Pending | None:
        pending = self.browsers.take_pending(session_id or "")  # single use (OA119)
        if pending is None or returned is None:
            return None
        # bound to this browser, compared in constant time (RFC 6749 §10.12; OA103)
        if not hmac.compare_digest(pending.state.encode(), returned.encode()):
            return None
        return pending

    # -- step 4 -----------------------------------------------------------------------------

    def exchange(self, pending: Pending, code: str) -> dict[str, object]:
        response = self.http.post(
            self.provider.token_endpoint,
            data={
                "grant_type": "authorization_code",
                "code": code,
                "redirect_uri": self.redirect_uri(),
                "code_verifier": pending.verifier,
            },
            auth=(self.config.client_id, self.config.client_secret),  # client_secret_basic
            headers={"Accept": "application/json"},  # GitHub answers form-encoded otherwise
        )
        if response.status_code != 200:
            error = _error_code(response)
            log.warning("token exchange refused: %s", error)  # never the code or secret
            raise SignInRefused(
                "The provider refused the sign-in",
                f"The code exchange failed ({error}). Start again.",
                502,
            )
        body = response.json()
        if not isinstance(body, dict) or not body.get("access_token"):
            raise SignInRefused(
                "The provider refused the sign-in", "No access token came back.", 502
            )
        return body

    def identify(self, pending: Pending, tokens: dict[str, object]) -> SignedIn:
        access = str(tokens["access_token"])
        if self.provider.kind == "github":
            return self._github_user(access)
        id_token = tokens.get("id_token")
        if not isinstance(id_token, str):  # an access token alone is no proof of identity
            raise SignInRefused("No identity token", "The provider sent no ID token.")
        try:
            keys = fetch_keys(self.http, self.provider.jwks_uri)
            claims = verify_id_token(
                id_token,
                keys,
                issuer=self.provider.issuer,
                client_id=self.config.client_id,
                nonce=pending.nonce,
                algorithms=self.provider.id_token_algs,
            )
        except IdTokenError as exc:
            raise SignInRefused("The identity token failed verification", str(exc)) from None
        subject = f"{self.provider.issuer}#{claims['sub']}"  # (iss, sub), not the email
        name = str(claims.get("name") or claims.get("preferred_username") or claims["sub"])
        return SignedIn(subject, name, str(claims.get("preferred_username", "")), access)

    def _github_user(self, access: str) -> SignedIn:
        response = self.http.get(
            self.provider.userinfo_endpoint,
            headers={"Authorization": f"Bearer {access}", "Accept": "application/vnd.github+json"},
        )
        if response.status_code != 200:
            raise SignInRefused("GitHub did not say who you are", "GET /user failed.", 502)
        user = response.json()
        return SignedIn(
            f"github#{user['id']}",
            str(user.get("name") or user["login"]),
            str(user["login"]),
            access,
        )


def _error_code(response: httpx.Response) -> str:
    try:
        return str(response.json().get("error", response.status_code))
    except ValueError:
        return str(response.status_code)


def create_app(
    config: ClientConfig,
    http: httpx.Client | None = None,
    flow_class: type[StepByStep] | None = None,
) -> Flask:
    """The step-by-step photo-printer app (`flow_class` lets tests plant a flaw). The
    no-state-check lab replaces its callback afterwards: see `valetkey.client.apps`."""
    client = http or httpx.Client(timeout=10.0, verify=True)  # TLS verified (OA110, OA111)
    flow = (flow_class or StepByStep)(config, client)
    app = new_app(config, "step by step")
    app.extensions["photo_printer"] = flow
    _routes(app, flow)
    return app


def _routes(app: Flask, flow: StepByStep) -> None:
    add_shell_routes(app, flow.config, flow)

    @app.post("/login")
    def login_with_password() -> Response:
        # LAB ask-password: the anti-pattern. The app receives the password (and drops it).
        session, _ = flow.browsers.create()
        return _with_cookie(redirect(flow.authorization_url(session), 303), session)


def _session_id() -> str | None:
    return request.cookies.get(COOKIE)


def _with_cookie(response: Response, session_id: str) -> Response:
    """The browser's session cookie, set here: the state is bound to it (OA103)."""
    response.set_cookie(
        COOKIE, session_id, httponly=True, samesite="Lax", path="/", secure=request.is_secure
    )
    return response

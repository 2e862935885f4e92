"""What the zoo's apps share, the way real apps share a library: discovery, the code exchange,
and ID-token verification with joserfc. Each app decides which of these safeguards it uses
(the flawed ones skip some, as their developers did); sessions, pages and framework are
each app's own."""

from __future__ import annotations

import base64
import hashlib
import secrets
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import httpx
from joserfc import jwt
from joserfc.jwk import KeySet


class Refused(Exception):
    """The callback must not sign anyone in."""


@dataclass(frozen=True)
class Cfg:
    issuer: str
    client_id: str
    secret: str
    origin: str  # where the app runs, e.g. http://127.0.0.1:5001
    callback_path: str = "/callback"
    scope: str = "openid profile email"

    @property
    def redirect_uri(self) -> str:
        return self.origin + self.callback_path


def pkce_pair() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    digest = hashlib.sha256(verifier.encode()).digest()
    return verifier, base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


class Provider:
    def __init__(self, cfg: Cfg) -> None:
        self.cfg = cfg
        self.http = httpx.Client(timeout=10.0)
        self._meta: dict[str, Any] | None = None
        self._keys: KeySet | None = None

    @property
    def meta(self) -> dict[str, Any]:
        if self._meta is None:
            url = self.cfg.issuer + "/.well-known/openid-configuration"
            self._meta = dict(self.http.get(url).json())
        return self._meta

    def authorize_url(self, **params: str | None) -> str:
        base = {"response_type": "code", "client_id": self.cfg.client_id, "scope": self.cfg.scope}
        base["redirect_uri"] = self.cfg.redirect_uri
        query = {k: v for k, v in {**base, **params}.items() if v is not None}
        return f"{self.meta['authorization_endpoint']}?{urlencode(query)}"

    def exchange(self, code: str, verifier: str | None, redirect_uri: str | None = None) -> Any:
        data = {"grant_type": "authorization_code", "code": code}
        data["redirect_uri"] = redirect_uri or self.cfg.redirect_uri
        if verifier:
            data["code_verifier"] = verifier
        answer = self.http.post(
            self.meta["token_endpoint"], data=data, auth=(self.cfg.client_id, self.cfg.secret)
        )
        if answer.status_code != 200:
            raise Refused(f"token endpoint said {answer.status_code}: {answer.text[:200]}")
        return answer.json()

    def userinfo(self, access_token: str) -> dict[str, Any]:
        answer = self.http.get(
            self.meta["userinfo_endpoint"], headers={"authorization": f"Bearer {access_token}"}
        )
        if answer.status_code != 200:
            raise Refused("userinfo refused the token")
        return dict(answer.json())

    def keys(self) -> KeySet:
        if self._keys is None:
            self._keys = KeySet.import_key_set(self.http.get(self.meta["jwks_uri"]).json())
        return self._keys

    def verify(self, id_token: str | None, nonce: str | None, check_nonce: bool = True) -> Any:
        """Signature (RS256/ES256 only), iss, aud, exp, sub and, unless skipped, nonce."""
        if not id_token:
            raise Refused("no ID token")
        try:
            token = jwt.decode(id_token, self.keys(), algorithms=["RS256", "ES256"])
        except Exception as exc:  # joserfc raises several kinds; all mean "refuse"
            raise Refused(f"bad ID token: {exc}") from None
        return check_claims(dict(token.claims), self, nonce, check_nonce)

    def check_iss(self, params: Any) -> None:
        """RFC 9207: the provider says it sends iss; it must be there and be the issuer."""
        if params.get("iss") != self.meta["issuer"]:
            raise Refused("wrong or missing iss")


def check_claims(claims: dict[str, Any], p: Provider, nonce: str | None, check_nonce: bool) -> Any:
    if claims.get("iss") != p.meta["issuer"] or claims.get("aud") not in (
        p.cfg.client_id,
        [p.cfg.client_id],
    ):
        raise Refused("iss or aud")
    if float(claims.get("exp", 0)) < time.time() or not claims.get("sub"):
        raise Refused("expired or no sub")
    if check_nonce and (not nonce or claims.get("nonce") != nonce):
        raise Refused("nonce")
    return claims


def unverified_claims(id_token: str | None) -> dict[str, Any]:
    """What some developers do: read the payload and trust it."""
    import json

    if not id_token:
        raise Refused("no ID token")
    part = id_token.split(".")[1]
    return dict(json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))))


SAFE_HEADERS = {"Referrer-Policy": "no-referrer", "Cache-Control": "no-store"}

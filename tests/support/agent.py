"""A minimal browser for tests: a cookie jar, one hop at a time, and the sandbox's forms."""

from __future__ import annotations

import base64
import hashlib
import re
import secrets
from dataclasses import dataclass
from urllib.parse import parse_qs, urlsplit

import httpx

REDIRECT = "http://127.0.0.1:8500/callback"
CLIENT = "photo-printer"


def pkce_pair() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
    return verifier, challenge.rstrip(b"=").decode()


def hidden(html: str, name: str) -> str:
    match = re.search(rf'name="{name}" value="([^"]*)"', html)
    assert match is not None, f"no hidden input {name!r} in page"
    return match.group(1)


def query_of(location: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}


@dataclass
class Authorization:
    verifier: str
    state: str
    nonce: str
    params: dict[str, str]


class Agent:
    def __init__(self, issuer: str) -> None:
        self.issuer = issuer
        self.http = httpx.Client(base_url=issuer, follow_redirects=False, timeout=15)

    def close(self) -> None:
        self.http.close()

    def request_params(self, **overrides: str | None) -> Authorization:
        verifier, challenge = pkce_pair()
        state, nonce = secrets.token_urlsafe(16), secrets.token_urlsafe(16)
        params: dict[str, str | None] = {
            "client_id": CLIENT,
            "redirect_uri": REDIRECT,
            "response_type": "code",
            "scope": "openid profile photos.read",
            "state": state,
            "nonce": nonce,
            "code_challenge": challenge,
            "code_challenge_method": "S256",
        }
        params.update(overrides)
        clean = {k: v for k, v in params.items() if v is not None}
        return Authorization(verifier, state, nonce, clean)

    def authorize(self, params: dict[str, str]) -> httpx.Response:
        return self.http.get("/authorize", params=params)

    def login(
        self,
        login_url: str,
        username: str,
        password: str,
        headers: dict[str, str] | None = None,
    ) -> httpx.Response:
        page = self.http.get(login_url)
        assert page.status_code == 200, page.text
        return self.http.post(
            "/login",
            data={
                "csrf": hidden(page.text, "csrf"),
                "request": hidden(page.text, "request"),
                "username": username,
                "password": password,
            },
            headers=headers,
        )

    def consent(self, consent_url: str, decision: str = "allow") -> httpx.Response:
        page = self.http.get(consent_url)
        assert page.status_code == 200, page.text
        return self.http.post(
            "/consent",
            data={
                "csrf": hidden(page.text, "csrf"),
                "request": hidden(page.text, "request"),
                "decision": decision,
            },
        )

    def to_callback(self, params: dict[str, str], username: str, password: str) -> str:
        """Follow authorize → login → consent as needed; return the callback URL."""
        response = self.authorize(params)
        for _ in range(4):
            location = response.headers.get("location", "")
            assert response.status_code in (302, 303), (response.status_code, response.text)
            if location.startswith("/login"):
                response = self.login(location, username, password)
            elif location.startswith("/consent"):
                response = self.consent(location)
            else:
                return location
        raise AssertionError("too many hops")

    def code(
        self, username: str, password: str, **overrides: str | None
    ) -> tuple[str, Authorization]:
        auth = self.request_params(**overrides)
        callback = self.to_callback(auth.params, username, password)
        query = query_of(callback)
        assert "code" in query, callback
        return query["code"], auth

"""Making DPoP proofs (RFC 9449 §4.2), for the probe's AS-29 and for tests."""

from __future__ import annotations

import json
import secrets
import time

from joserfc import jws
from joserfc.jwk import ECKey

from valetkey.oauth.base64url import sha256_b64url


class DpopKey:
    def __init__(self) -> None:
        self.key = ECKey.generate_key("P-256", private=True)

    @property
    def jkt(self) -> str:
        return self.key.thumbprint()

    def proof(
        self, method: str, url: str, access_token: str | None = None, iat: float | None = None
    ) -> str:
        header = {"typ": "dpop+jwt", "alg": "ES256", "jwk": self.key.as_dict(private=False)}
        claims: dict[str, object] = {
            "jti": secrets.token_urlsafe(16),
            "htm": method,
            "htu": url,
            "iat": int(iat or time.time()),
        }
        if access_token is not None:
            claims["ath"] = sha256_b64url(access_token)  # RFC 9449 §4.2
        return jws.serialize_compact(
            header, json.dumps(claims).encode(), self.key, algorithms=["ES256"]
        )

"""Server metadata (RFC 8414 §2, OIDC Discovery §3) and the JWKS (RFC 7517 §5)."""

from __future__ import annotations

from typing import Any

from valetkey.oauth.client_metadata import DEVICE_CODE
from valetkey.provider.checks.rfc9449 import ALGORITHMS as DPOP_ALGORITHMS
from valetkey.provider.core import Provider
from valetkey.provider.http import Request, Response, json_response
from valetkey.provider.lab import LabSwitch
from valetkey.provider.response_modes import FORM_POST, FRAGMENT, IMPLICIT_TYPES, QUERY, spell

PUBLIC_CACHE = [("cache-control", "public, max-age=60"), ("access-control-allow-origin", "*")]


def registration_metadata(provider: Provider) -> dict[str, Any]:
    """RFC 8414 §2 `registration_endpoint` (unless `--no-registration`), and CIMD support
    (draft-ietf-oauth-client-id-metadata-document §4)."""
    found: dict[str, Any] = {"client_id_metadata_document_supported": True}
    if provider.settings.registration:
        found["registration_endpoint"] = f"{provider.issuer}/register"
    return found


def metadata(provider: Provider) -> dict[str, Any]:
    issuer = provider.issuer
    implicit = provider.lab(LabSwitch.IMPLICIT)
    return registration_metadata(provider) | {
        "issuer": issuer,
        "authorization_endpoint": f"{issuer}/authorize",
        "token_endpoint": f"{issuer}/token",
        "userinfo_endpoint": f"{issuer}/userinfo",
        "jwks_uri": f"{issuer}/jwks.json",
        "revocation_endpoint": f"{issuer}/revoke",
        "introspection_endpoint": f"{issuer}/introspect",
        "end_session_endpoint": f"{issuer}/logout",
        "scopes_supported": ["openid", "profile", "email", "photos.read", "offline_access"],
        # LAB implicit adds the types that return tokens, and the modes that carry them
        "response_types_supported": ["code", *(spell(t) for t in IMPLICIT_TYPES)]
        if implicit
        else ["code"],
        "response_modes_supported": [QUERY, FRAGMENT, FORM_POST] if implicit else [QUERY],
        "grant_types_supported": [
            "authorization_code",
            "refresh_token",
            "client_credentials",
            DEVICE_CODE,  # RFC 8628 §4
        ],
        "device_authorization_endpoint": f"{issuer}/device_authorization",
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["RS256", "ES256"],
        "token_endpoint_auth_methods_supported": [
            "client_secret_basic",
            "client_secret_post",
            "none",
        ],
        "revocation_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
        "introspection_endpoint_auth_methods_supported": [
            "client_secret_basic",
            "client_secret_post",
        ],
        "code_challenge_methods_supported": ["S256", "plain"]  # AS-03
        if provider.lab(LabSwitch.PLAIN_PKCE)
        else ["S256"],
        # RFC 9207 §3; AS-14 (false only with the no-iss lab switch)
        "authorization_response_iss_parameter_supported": not provider.lab(LabSwitch.NO_ISS),
        "dpop_signing_alg_values_supported": list(DPOP_ALGORITHMS),  # RFC 9449 §5.1
        "claims_supported": [
            "sub",
            "iss",
            "aud",
            "exp",
            "iat",
            "auth_time",
            "nonce",
            "at_hash",
            "name",
            "given_name",
            "preferred_username",
            "email",
            "email_verified",
        ],
        "prompt_values_supported": ["none", "login", "consent"],
        "request_parameter_supported": False,
        "request_uri_parameter_supported": False,
        "claims_parameter_supported": False,
    }


def discovery(provider: Provider, request: Request) -> Response:
    return _public(metadata(provider))


def jwks(provider: Provider, request: Request) -> Response:
    return _public(provider.keys.jwks)


def _public(data: dict[str, Any]) -> Response:
    """Public, cacheable JSON: unlike token responses, metadata and keys may be cached."""
    response = json_response(data)
    response.headers = [h for h in response.headers if h[0] not in ("cache-control", "pragma")]
    response.headers.extend(PUBLIC_CACHE)
    return response

"""OAuth and OpenID Connect errors: one class per error code, one way to serialize them.

`description` is the public text (safe to show to a browser or client); `detail` goes only to
the log (written when a check fails with one). Before the client and redirect URI are
validated (RFC 6749 §4.1.2.1) an error is never sent back to the redirect URI: the
authorization endpoint's first table raises `PageError`, which is shown to the user.
"""

from __future__ import annotations

from typing import ClassVar


class OAuthError(Exception):
    """An error response defined by RFC 6749 §4.1.2.1 / §5.2, RFC 6750 §3.1 or OIDC §3.1.2.6."""

    error: ClassVar[str] = "invalid_request"
    status: ClassVar[int] = 400

    def __init__(self, description: str, detail: str = "", check_id: str = "") -> None:
        super().__init__(description)
        self.description = description
        self.detail = detail
        self.check_id = check_id

    def body(self) -> dict[str, str]:
        return {"error": self.error, "error_description": self.description}


class InvalidRequest(OAuthError):
    error = "invalid_request"


class InvalidClient(OAuthError):
    """RFC 6749 §5.2: 401 with a WWW-Authenticate challenge."""

    error = "invalid_client"
    status = 401


class InvalidGrant(OAuthError):
    error = "invalid_grant"


class UnauthorizedClient(OAuthError):
    error = "unauthorized_client"


class UnsupportedGrantType(OAuthError):
    error = "unsupported_grant_type"


class UnsupportedResponseType(OAuthError):
    error = "unsupported_response_type"


class InvalidScope(OAuthError):
    error = "invalid_scope"


class InvalidTarget(OAuthError):
    """RFC 8707 §2: the resource named is invalid, missing, unknown or malformed."""

    error = "invalid_target"


class AccessDenied(OAuthError):
    error = "access_denied"
    status = 403


class LoginRequired(OAuthError):
    error = "login_required"


class ConsentRequired(OAuthError):
    error = "consent_required"


class RequestNotSupported(OAuthError):
    error = "request_not_supported"


class RequestUriNotSupported(OAuthError):
    error = "request_uri_not_supported"


class UnsupportedTokenType(OAuthError):
    error = "unsupported_token_type"


class InvalidToken(OAuthError):
    """RFC 6750 §3.1: the access token is expired, revoked, malformed or invalid."""

    error = "invalid_token"
    status = 401


class InsufficientScope(OAuthError):
    """RFC 6750 §3.1: the token lacks the scope the resource needs."""

    error = "insufficient_scope"
    status = 403

    def __init__(self, description: str, scope: str) -> None:
        super().__init__(description)
        self.scope = scope


class MethodNotAllowed(OAuthError):
    error = "invalid_request"
    status = 405


class PageError(OAuthError):
    """An authorization error that must be shown to the user, never redirected (AS-09, AS-10)."""


class NotFound(OAuthError):
    error = "not_found"
    status = 404


class InvalidDpopProof(OAuthError):
    """RFC 9449 §5 and §7.1: the DPoP proof is missing, malformed or does not match."""

    error = "invalid_dpop_proof"


class ResourceDpopError(InvalidDpopProof):
    """RFC 9449 §7.1: at a resource server a bad proof is a 401."""

    status = 401


class MissingToken(InvalidToken):
    """RFC 6750 §3.1: no credentials at all; the challenge carries no error code."""


class InvalidClientMetadata(OAuthError):
    """RFC 7591 §3.2.2: a client metadata field has an invalid value (or the request is not
    a JSON object of metadata at all)."""

    error = "invalid_client_metadata"


class InvalidRedirectUri(OAuthError):
    """RFC 7591 §3.2.2: a redirect URI the sandbox will not register."""

    error = "invalid_redirect_uri"


class AuthorizationPending(OAuthError):
    """RFC 8628 §3.5: the user has not decided yet; poll again after the interval."""

    error = "authorization_pending"


class SlowDown(OAuthError):
    """RFC 8628 §3.5: polled too fast; the interval grows by 5 seconds."""

    error = "slow_down"


class ExpiredToken(OAuthError):
    """RFC 8628 §3.5: the device code expired; start again."""

    error = "expired_token"

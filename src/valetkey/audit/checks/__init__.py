"""The static checks, one module per OA id. Importing this package registers them all."""

from __future__ import annotations

from valetkey.audit.checks import (  # noqa: F401  (imported to register)
    oa101_state_missing,
    oa102_state_weak,
    oa103_state_unverified,
    oa104_redirect_uri_not_exact,
    oa105_client_secret_in_code,
    oa106_implicit_flow,
    oa107_pkce_missing_public,
    oa108_scope_overbroad,
    oa109_secret_logged,
    oa110_tls_verification_disabled,
    oa111_no_timeout,
    oa112_id_token_unverified,
    oa113_nonce_missing,
    oa114_token_in_url,
    oa115_open_redirect_after_login,
    oa116_session_key_in_code,
    oa117_access_token_as_identity,
    oa118_password_grant,
    oa119_state_reusable,
    oa120_account_linked_by_email,
    oa121_mix_up_unchecked,
)
from valetkey.audit.registry import REGISTRY, Check


def all_checks() -> list[Check]:
    return [REGISTRY[key] for key in sorted(REGISTRY)]


def detection(check_id: str) -> str:
    """What exactly the auditor flags for an OA id (its check's docstring), or ""."""
    check = REGISTRY.get(check_id)
    return check.detection if check is not None else ""

"""What the app knows of its provider: endpoints from discovery, or GitHub's fixed ones."""

from __future__ import annotations

from dataclasses import dataclass

import httpx

from valetkey.client.config import ClientConfig

STRONG_ALGS = ("RS256", "ES256", "PS256", "EdDSA")  # never "none", never HS* (RFC 8725 §3.1)


class ProviderError(RuntimeError):
    """The provider's metadata could not be read or is not trustworthy."""


@dataclass(frozen=True)
class Provider:
    kind: str
    issuer: str
    authorization_endpoint: str
    token_endpoint: str
    userinfo_endpoint: str
    jwks_uri: str
    id_token_algs: tuple[str, ...]
    iss_parameter_supported: bool
    api_base: str


def discover(config: ClientConfig, http: httpx.Client) -> Provider:
    if config.provider == "github":
        return github(config)
    try:
        response = http.get(config.discovery_url)
        response.raise_for_status()
        meta = response.json()
    except (httpx.HTTPError, ValueError) as exc:
        raise ProviderError(f"cannot read the provider's discovery document: {exc}") from None
    issuer = str(meta.get("issuer", ""))
    # OIDC Discovery §4.3: the issuer must be the URL the document was fetched from
    if not issuer or not config.discovery_url.startswith(issuer.rstrip("/") + "/.well-known/"):
        raise ProviderError(f"discovery issuer {issuer!r} does not match {config.discovery_url}")
    offered = meta.get("id_token_signing_alg_values_supported") or ["RS256"]
    algs = tuple(alg for alg in STRONG_ALGS if alg in offered)
    return Provider(
        kind=config.provider,
        issuer=issuer,
        authorization_endpoint=str(meta["authorization_endpoint"]),
        token_endpoint=str(meta["token_endpoint"]),
        userinfo_endpoint=str(meta.get("userinfo_endpoint", "")),
        jwks_uri=str(meta["jwks_uri"]),
        id_token_algs=algs,
        iss_parameter_supported=bool(meta.get("authorization_response_iss_parameter_supported")),
        api_base=(config.api_base or issuer).rstrip("/"),
    )


def github(config: ClientConfig) -> Provider:
    """GitHub: fixed endpoints, no discovery, no ID token; identity comes from GET /user."""
    return Provider(
        kind="github",
        issuer=config.github_url,
        authorization_endpoint=f"{config.github_url}/login/oauth/authorize",
        token_endpoint=f"{config.github_url}/login/oauth/access_token",
        userinfo_endpoint=f"{config.github_api_url}/user",
        jwks_uri="",
        id_token_algs=(),
        iss_parameter_supported=False,
        api_base=(config.api_base or config.github_api_url).rstrip("/"),
    )

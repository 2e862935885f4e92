"""What the auditor knows about the libraries OAuth clients are built with.

Everything here is library API or protocol knowledge (names of functions, methods,
attributes and OAuth parameters), never a guess from the names people give their variables.
Types are short tags attached to abstract values by the interpreter and the models.
"""

from __future__ import annotations

from typing import Final

from valetkey.audit import frameworks as fw

# --- object types -----------------------------------------------------------------------
HTTP_RESPONSE: Final = "http.response"
REQUESTS_MODULE: Final = "requests"
HTTPX_MODULE: Final = "httpx"
REQUESTS_SESSION: Final = "requests.Session"
HTTPX_CLIENT: Final = "httpx.Client"
AIOHTTP_SESSION: Final = "aiohttp.ClientSession"  # default total timeout: 5 minutes
URLLIB3_POOL: Final = "urllib3.PoolManager"  # no timeout unless given one
AIOHTTP_TIMEOUT: Final = "aiohttp.ClientTimeout"
OAUTH2SESSION: Final = "requests_oauthlib.OAuth2Session"
AUTHLIB_SESSION: Final = "authlib.OAuth2Session"  # requests/httpx based sessions of Authlib
AUTHLIB_REGISTRY: Final = "authlib.OAuth"  # the framework integration registry
AUTHLIB_APP: Final = "authlib.app"  # one registered provider: authorize_redirect ...
MSAL_APP: Final = "msal.ClientApplication"
JWCRYPTO_TOKEN: Final = "jwcrypto.token"  # noqa: S105 - a type tag, not a password
HTTPX_OAUTH_CLIENT: Final = "httpx_oauth.client"
OAUTHLIB_CLIENT: Final = "oauthlib.client"  # builds requests, sends nothing
SIGNER: Final = "itsdangerous.signer"  # signs and verifies values; binds them to nothing
LOGGER: Final = "logging.Logger"

CONSTRUCTORS: Final[dict[str, str]] = {
    "requests.Session": REQUESTS_SESSION,
    "requests.session": REQUESTS_SESSION,
    "requests.sessions.Session": REQUESTS_SESSION,
    "httpx.Client": HTTPX_CLIENT,
    "httpx.AsyncClient": HTTPX_CLIENT,
    "aiohttp.ClientSession": AIOHTTP_SESSION,
    "aiohttp.client.ClientSession": AIOHTTP_SESSION,
    "aiohttp.ClientTimeout": AIOHTTP_TIMEOUT,
    "urllib3.PoolManager": URLLIB3_POOL,
    "urllib3.ProxyManager": URLLIB3_POOL,
    "urllib3.HTTPSConnectionPool": URLLIB3_POOL,
    "urllib3.HTTPConnectionPool": URLLIB3_POOL,
    "urllib3.poolmanager.PoolManager": URLLIB3_POOL,
    "requests_oauthlib.OAuth2Session": OAUTH2SESSION,
    "requests_oauthlib.oauth2_session.OAuth2Session": OAUTH2SESSION,
    "authlib.integrations.requests_client.OAuth2Session": AUTHLIB_SESSION,
    "authlib.integrations.httpx_client.OAuth2Client": AUTHLIB_SESSION,
    "authlib.integrations.httpx_client.AsyncOAuth2Client": AUTHLIB_SESSION,
    "authlib.integrations.flask_client.OAuth": AUTHLIB_REGISTRY,
    "authlib.integrations.starlette_client.OAuth": AUTHLIB_REGISTRY,
    "authlib.integrations.django_client.OAuth": AUTHLIB_REGISTRY,
    "msal.ConfidentialClientApplication": MSAL_APP,
    "msal.PublicClientApplication": MSAL_APP,
    "msal.application.ConfidentialClientApplication": MSAL_APP,
    "msal.application.PublicClientApplication": MSAL_APP,
    **dict.fromkeys(fw.SECURITY_SCHEMES, fw.SECURITY_SCHEME),
    **{
        f"itsdangerous.{name}": SIGNER
        for name in (
            "URLSafeTimedSerializer",
            "URLSafeSerializer",
            "TimedSerializer",
            "Serializer",
            "TimestampSigner",
            "Signer",
            "TimedJSONWebSignatureSerializer",
        )
    },
    **dict.fromkeys(
        (
            "oauthlib.oauth2.WebApplicationClient",
            "oauthlib.oauth2.rfc6749.clients.WebApplicationClient",
            "oauthlib.oauth2.rfc6749.clients.web_application.WebApplicationClient",
        ),
        OAUTHLIB_CLIENT,
    ),
    "jwcrypto.jwt.JWT": JWCRYPTO_TOKEN,
    "jwcrypto.jws.JWS": JWCRYPTO_TOKEN,
    "logging.getLogger": LOGGER,
    "structlog.get_logger": LOGGER,
    "flask.Flask": fw.FLASK_APP,
    "fastapi.FastAPI": fw.ASGI_APP,
    "starlette.applications.Starlette": fw.ASGI_APP,
}

# Session-like types whose HTTP calls go through `requests` (no default timeout).
REQUESTS_BASED: Final = frozenset(
    {REQUESTS_MODULE, REQUESTS_SESSION, OAUTH2SESSION, AUTHLIB_SESSION}
)
HTTP_CLIENTS: Final = REQUESTS_BASED | {
    HTTPX_MODULE,
    HTTPX_CLIENT,
    AUTHLIB_APP,
    AIOHTTP_SESSION,
    URLLIB3_POOL,
}
HTTP_METHODS: Final = frozenset(
    {"get", "post", "put", "patch", "delete", "head", "options", "request", "stream", "urlopen"}
)
# Modules whose functions make requests (`requests.get`, `httpx.post`, `urllib3.request`).
HTTP_MODULES: Final = frozenset({"requests", "httpx", "urllib3", "aiohttp"})
# HTTP methods whose first argument is the HTTP verb, the URL second.
VERB_FIRST_METHODS: Final = frozenset({"request", "urlopen"})
OAUTH_SESSIONS: Final = frozenset({OAUTH2SESSION, AUTHLIB_SESSION, AUTHLIB_APP})

# Token exchanges: (receiver type, method).
TOKEN_EXCHANGES: Final = frozenset(
    {
        (OAUTH2SESSION, "fetch_token"),
        (AUTHLIB_SESSION, "fetch_token"),
        (AUTHLIB_SESSION, "fetch_access_token"),
        (AUTHLIB_APP, "authorize_access_token"),
        (AUTHLIB_APP, "fetch_access_token"),
        (MSAL_APP, "acquire_token_by_auth_code_flow"),
        (MSAL_APP, "acquire_token_by_authorization_code"),
    }
)
# Token exchanges in which the library itself compares the returned state with the one it
# sent (Authlib's framework clients; MSAL's auth-code flow object, which also checks the
# nonce).
LIBRARY_STATE_CHECKS: Final = frozenset(
    {(AUTHLIB_APP, "authorize_access_token"), (MSAL_APP, "acquire_token_by_auth_code_flow")}
)
# Calls that only verify a signature (of the state itself): valid for any state the
# server ever minted, the attacker's included.
SIGNATURE_CHECKS: Final = frozenset({(SIGNER, "loads"), (SIGNER, "unsign"), (SIGNER, "validate")})
SIGNATURE_FUNCTIONS: Final = frozenset({"jwt.decode", "jose.jwt.decode", "joserfc.jwt.decode"})
# Other calls that answer with tokens without redeeming a code.
TOKEN_GRANTS: Final = frozenset(
    {
        (MSAL_APP, "acquire_token_silent"),
        (MSAL_APP, "acquire_token_by_refresh_token"),
        (MSAL_APP, "acquire_token_for_client"),
        (MSAL_APP, "acquire_token_interactive"),
        (MSAL_APP, "acquire_token_by_device_flow"),
        (MSAL_APP, "acquire_token_by_username_password"),
    }
)
# Library calls that build an authorization request and generate `state` themselves.
SELF_STATE_AUTH_REQUESTS: Final = frozenset(
    {
        (OAUTH2SESSION, "authorization_url"),
        (AUTHLIB_SESSION, "create_authorization_url"),
        (AUTHLIB_APP, "authorize_redirect"),
        (AUTHLIB_APP, "create_authorization_url"),
        (MSAL_APP, "initiate_auth_code_flow"),
        (MSAL_APP, "get_authorization_request_url"),
    }
)

# Packages whose use makes a module OAuth code.
OAUTH_PACKAGES: Final = (
    "requests_oauthlib",
    "oauthlib",
    "authlib",
    "flask_dance",
    "social_core",
    "social_django",
    "allauth",
    "msal",
    "httpx_oauth",
    "fastapi_sso",
    "google_auth_oauthlib",
)
# Packages whose import makes a module a candidate for callbacks (web or OAuth code).
WEB_AND_OAUTH_PACKAGES: Final = (
    *fw.WEB_FRAMEWORKS,
    *sorted(HTTP_MODULES),
    *OAUTH_PACKAGES,
)

# --- request objects ---------------------------------------------------------------------
# Attributes of HTTP responses (requests, httpx) that carry no body data.
RESPONSE_META_ATTRS: Final = frozenset(
    {
        "status_code",
        "status",
        "ok",
        "reason",
        "reason_phrase",
        "headers",
        "elapsed",
        "encoding",
        "is_success",
        "is_error",
        "http_version",
    }
)

# --- randomness --------------------------------------------------------------------------
# qualified function -> bits of entropy for its default argument, or None when it depends on n
CSPRNG_DEFAULT_BITS: Final[dict[str, int]] = {
    "secrets.token_urlsafe": 256,
    "secrets.token_hex": 256,
    "secrets.token_bytes": 256,
    "authlib.common.security.generate_token": 178,
    "oauthlib.common.generate_token": 178,
    "secrets.randbits": 0,
    "os.urandom": 0,
    "secrets.choice": 0,
    "secrets.randbelow": 0,
}
CSPRNG_BYTES_ARG: Final = frozenset(
    {"secrets.token_urlsafe", "secrets.token_hex", "secrets.token_bytes", "os.urandom"}
)
WEAK_RANDOM_MODULES: Final = frozenset({"random", "numpy.random"})
TIME_FUNCTIONS: Final = frozenset(
    {
        "time.time",
        "time.time_ns",
        "time.monotonic",
        "time.perf_counter",
        "datetime.datetime.now",
        "datetime.datetime.utcnow",
        "datetime.datetime.today",
        "datetime.date.today",
    }
)
HASH_MODULES: Final = frozenset({"hashlib", "hmac"})
ENV_GETTERS: Final = frozenset({"os.getenv", "os.environ.get", "os.environ.setdefault"})
ENV_MAPPINGS: Final = frozenset({"os.environ"})

# --- sinks -------------------------------------------------------------------------------
LOG_METHODS: Final = frozenset(
    {"debug", "info", "warning", "warn", "error", "exception", "critical", "log", "fatal"}
)
URL_ENCODERS: Final = frozenset({"urllib.parse.urlencode", "urllib.urlencode"})
URL_PARSERS: Final = frozenset({"urllib.parse.urlparse", "urllib.parse.urlsplit"})
CONSTANT_TIME_COMPARE: Final = frozenset(
    {"hmac.compare_digest", "secrets.compare_digest", "django.utils.crypto.constant_time_compare"}
)

# --- JOSE / JWT libraries ------------------------------------------------------------------
PYJWT_DECODE: Final = frozenset({"jwt.decode", "jwt.api_jwt.decode", "jwt.PyJWT.decode"})
JOSE_DECODE: Final = frozenset({"jose.jwt.decode"})
JOSE_UNVERIFIED: Final = frozenset(
    {
        "jose.jwt.get_unverified_claims",
        "jwt.get_unverified_header",
        "jose.jwt.get_unverified_header",
        "jose.jws.get_unverified_claims",
    }
)
JOSERFC_DECODE: Final = frozenset({"joserfc.jwt.decode"})
# jwcrypto verifies a token only when it is given a key (`JWT(jwt=raw, key=jwks)`,
# `JWS.deserialize(raw, key)`).
JWCRYPTO_TOKENS: Final = frozenset({"jwcrypto.jwt.JWT", "jwcrypto.jws.JWS"})
AUTHLIB_JOSE_DECODE: Final = frozenset(
    {"authlib.jose.jwt.decode", "authlib.jose.JsonWebToken.decode"}
)
CLAIMS_VALIDATORS: Final = frozenset({"joserfc.jwt.JWTClaimsRegistry"})
B64_DECODERS: Final = frozenset(
    {
        "base64.urlsafe_b64decode",
        "base64.b64decode",
        "base64.decodebytes",
        "authlib.common.encoding.urlsafe_b64decode",
        "joserfc.util.urlsafe_b64decode",
    }
)

# --- OAuth protocol parameter names
# Configuration keys that name a back-channel endpoint (token, userinfo, JWKS ...).
BACK_CHANNEL_KEYS: Final = frozenset(
    {
        "token_url",
        "access_token_url",
        "token_endpoint",
        "userinfo_endpoint",
        "jwks_uri",
        "userinfo_url",
        "jwks_url",
        "refresh_token_url",
        "api_base_url",
        "server_metadata_url",
        "introspection_endpoint",
        "revocation_endpoint",
        "token_uri",
        "auto_refresh_url",
    }
)
# Every parameter a check reads from a placement (dict key, keyword, query parameter).
PLACEMENT_KEYS: Final = frozenset(
    {
        "response_type",
        "client_id",
        "redirect_uri",
        "redirect_uris",
        "state",
        "nonce",
        "code_verifier",
        "code_challenge_method",
        "pkce",
        "client_secret",
        "secret",
        "client_credential",
        "scope",
        "grant_type",
        *BACK_CHANNEL_KEYS,
        "SECRET_KEY",
        "secret_key",
    }
)
TOKEN_KEYS: Final = frozenset({"access_token", "refresh_token", "id_token"})
OAUTH_MARKER_KEYS: Final = frozenset(
    {
        "client_id",
        "redirect_uri",
        "redirect_uris",
        "grant_type",
        "code_challenge",
        "client_secret",
        "code_verifier",
    }
)
ENDPOINT_KEYS: Final = frozenset(
    {
        "token_url",
        "access_token_url",
        "token_endpoint",
        "userinfo_endpoint",
        "jwks_uri",
        "userinfo_url",
        "jwks_url",
        "refresh_token_url",
        "api_base_url",
        "introspection_endpoint",
        "revocation_endpoint",
        "server_metadata_url",
        "authorize_url",
        "authorization_endpoint",
        "authorization_base_url",
        "auto_refresh_url",
        "base_url",
        "token_uri",
        "auth_uri",
    }
)
BACK_CHANNEL_PATH_WORDS: Final = (
    "token",
    "userinfo",
    "user_info",
    "jwks",
    "certs",
    "openid-configuration",
    "introspect",
    "revoke",
    "/oauth",
)
# Path segments that name the signed-in user's identity endpoint (`/user`, `/users/@me`,
# `/v1/me`); whole segments only (`/metrics` is not `/me`).
IDENTITY_PATH_SEGMENTS: Final = frozenset({"user", "me", "@me"})
# Loopback names, and the unspecified address local listeners bind to (RFC 8252 §7.3).
LOOPBACK_HOSTS: Final = frozenset(
    {"localhost", "127.0.0.1", "::1", "[::1]", "0.0.0.0"}  # noqa: S104 - compared, not bound
)
OAUTH_LIBRARY_PREFIXES: Final = (
    "requests_oauthlib.",
    "oauthlib.",
    "authlib.",
    "flask_dance.",
    "social_core.",
    "allauth.",
    "fastapi_sso.",
    "httpx_oauth.",
    "google_auth_oauthlib.",
)
OAUTH_METHODS: Final = frozenset(
    {
        "authorization_url",
        "create_authorization_url",
        "authorize_redirect",
        "fetch_token",
        "authorize_access_token",
        "fetch_access_token",
        "register",
        "prepare_request_uri",
        "prepare_request_body",
        "refresh_token",
        "prepare_token_request",
    }
)

"""Fetching client ID metadata documents (draft-ietf-oauth-client-id-metadata-document §4).

I/O, so it runs in the endpoints' loaders (in a store worker thread, never on the event loop
and never inside a check), before any write of the request's transaction. Limits:

- the SSRF guard first (`target_refusal`): loopback only, unless `--cimd-allow HOST`;
- 2 seconds for the whole fetch (connect, headers and body), then it is a failure;
- at most 5 KiB of body; no redirect is followed (a 3xx is a failure, §4);
- no proxy from the environment, no cookies, no credentials sent.

A 200 response is kept for its Cache-Control lifetime (`cache_lifetime`: floor and
ceiling); failures are not kept, nor is a document the checks refused (`forget`), so a
fixed document is used at the next request. What the
response must be (JSON, naming itself, ...) is judged by the checks in
`checks/client_id_metadata_document.py`, from the `Fetched` record alone.
"""

from __future__ import annotations

import functools
import ssl
import threading
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from valetkey.oauth.client_id_metadata_document import cache_lifetime, target_refusal

if TYPE_CHECKING:
    import httpx

TIMEOUT = 2.0
MAX_SIZE = 5 * 1024
MAX_CACHED = 1000
FETCHER = "valetkey-sandbox (client ID metadata document fetch)"  # who is asking, said plainly


@dataclass(frozen=True)
class Fetched:
    """What fetching a document gave: the response, or `problem` when there was none to use."""

    url: str
    status: int = 0
    content_type: str = ""
    body: bytes = b""
    cache_control: str | None = None
    problem: str = ""


class TooLarge(Exception):
    pass


def _read(response: httpx.Response, deadline: float) -> bytes:
    """The body, at most MAX_SIZE bytes, read before the deadline."""
    import httpx

    declared = response.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_SIZE:
        raise TooLarge
    chunks, size = [], 0
    for chunk in response.iter_bytes():
        size += len(chunk)
        if size > MAX_SIZE:
            raise TooLarge
        if time.monotonic() > deadline:
            raise httpx.ReadTimeout("the whole fetch took too long")
        chunks.append(chunk)
    return b"".join(chunks)


@functools.cache
def trusted_roots() -> ssl.SSLContext:
    """The CAs an https document URL is verified against: the system's (certifi's), or the
    file SSL_CERT_FILE names (a local CA, for an https document server on loopback). No
    proxy settings are read: the fetch goes where the URL says, past the SSRF guard."""
    import httpx

    return httpx.create_ssl_context(trust_env=True)


def fetch_document(url: str, allowed: tuple[str, ...]) -> Fetched:
    """GET the document once, within the limits above (never raises)."""
    import httpx  # here: most sandboxes never fetch one, and start faster without it

    refusal = target_refusal(urlsplit(url).hostname or "", allowed)
    if refusal is not None:
        return Fetched(url, problem=refusal)
    deadline = time.monotonic() + TIMEOUT
    headers = {"accept": "application/json", "user-agent": FETCHER}
    try:
        with (
            httpx.Client(
                timeout=TIMEOUT, follow_redirects=False, trust_env=False, verify=trusted_roots()
            ) as http,
            http.stream("GET", url, headers=headers) as response,
        ):
            if 300 <= response.status_code < 400:
                return Fetched(url, response.status_code, problem=_redirected(response))
            body = _read(response, deadline)
    except TooLarge:
        return Fetched(url, problem=f"the document is larger than {MAX_SIZE} bytes")
    except httpx.TimeoutException:
        return Fetched(url, problem=f"the document did not arrive within {TIMEOUT:g} s")
    except httpx.HTTPError as exc:
        return Fetched(url, problem=f"the document could not be fetched ({type(exc).__name__})")
    content_type = response.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    cache = response.headers.get("cache-control")
    return Fetched(url, response.status_code, content_type, body, cache)


def _redirected(response: httpx.Response) -> str:
    return (
        f"the document URL answered {response.status_code} (a redirect); the sandbox follows "
        "no redirects: the client_id must be the document's own URL"
    )


class DocumentCache:
    """Documents fetched lately, by URL, each kept until its cache lifetime ends (by the
    sandbox's clock, so the admin API's clock moves it too)."""

    def __init__(self, allowed: tuple[str, ...]) -> None:
        self.allowed = allowed
        self._kept: dict[str, tuple[Fetched, float]] = {}
        self._lock = threading.Lock()

    def get(self, url: str, now: float) -> Fetched:
        with self._lock:
            kept = self._kept.get(url)
        if kept is not None and kept[1] > now:
            return kept[0]
        fetched = fetch_document(url, self.allowed)
        if fetched.status == 200 and not fetched.problem:
            with self._lock:
                if len(self._kept) >= MAX_CACHED:
                    self._kept.clear()
                self._kept[url] = (fetched, now + cache_lifetime(fetched.cache_control))
        return fetched

    def forget(self, url: str) -> None:
        """Drop a document the checks refused."""
        with self._lock:
            self._kept.pop(url, None)

"""The protocol core's view of HTTP: a parsed request in, a response object out.

Nothing here knows ASGI; `provider.app` turns ASGI into `Request` and `Response` back.
Parameters keep their duplicates, because RFC 6749 §3.1 and §3.2 forbid repeating a
parameter and the endpoints must be able to refuse that.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, quote, urlencode, urlsplit, urlunsplit

MAX_FIELDS = 64
MAX_VALUE = 4096  # longest accepted parameter value (tokens, assertions ...)
# state and nonce are stored with a pending request: shorter, but above AS-13's 1,500
MAX_VALUES = {"state": 2048, "nonce": 2048}


def value_limit(name: str) -> int:
    """The longest value accepted for the parameter `name`."""
    return MAX_VALUES.get(name, MAX_VALUE)


class MalformedRequest(ValueError):
    """The request could not be parsed: bad encoding, too many fields, too large."""


@dataclass(frozen=True)
class Params:
    """Decoded `name=value` pairs; an empty value counts as absent (RFC 6749 §3.1)."""

    pairs: tuple[tuple[str, str], ...] = ()

    @classmethod
    def parse(cls, encoded: str) -> Params:
        try:
            pairs = parse_qsl(
                encoded,
                keep_blank_values=True,
                strict_parsing=False,
                errors="strict",
                max_num_fields=MAX_FIELDS,
            )
        except (UnicodeDecodeError, ValueError) as exc:
            raise MalformedRequest("the parameters are not valid form encoding") from exc
        if any("\x00" in key or "\x00" in value for key, value in pairs):
            raise MalformedRequest("the parameters contain a NUL character")
        return cls(tuple(pairs))

    def get(self, name: str) -> str | None:
        for key, value in self.pairs:
            if key == name and value != "":
                return value
        return None

    def values(self, name: str) -> list[str]:
        """Every non-empty value sent for `name`, in order (a repeated parameter gives more
        than one)."""
        return [value for key, value in self.pairs if key == name and value != ""]

    def summary(
        self, names: Sequence[str], repeatable: frozenset[str] = frozenset()
    ) -> dict[str, str | None]:
        """`names` and their values, for a flow record: the first value of each, and every
        value (space-separated) of a parameter that may be repeated."""
        return {
            name: " ".join(self.values(name)) or None if name in repeatable else self.get(name)
            for name in names
        }

    def names(self) -> set[str]:
        return {key for key, value in self.pairs if value != ""}

    def duplicated(self) -> list[str]:
        seen: set[str] = set()
        repeated: list[str] = []
        for key, value in self.pairs:
            if value == "":
                continue
            if key in seen and key not in repeated:
                repeated.append(key)
            seen.add(key)
        return repeated

    def oversized(self) -> list[str]:
        return [key for key, value in self.pairs if len(value) > value_limit(key)]


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    query: Params
    form: Params
    headers: Mapping[str, str]  # lower-case names
    cookies: Mapping[str, str]
    raw_query: str = ""
    body: bytes = b""
    peer: str = ""  # the client's address (throttling only: never a proof of anything)

    @property
    def content_type(self) -> str:
        return self.headers.get("content-type", "").split(";", 1)[0].strip().lower()


@dataclass
class Response:
    status: int = 200
    body: bytes = b""
    headers: list[tuple[str, str]] = field(default_factory=list)

    def header(self, name: str) -> str | None:
        wanted = name.lower()
        for key, value in self.headers:
            if key.lower() == wanted:
                return value
        return None


NO_STORE = [("cache-control", "no-store"), ("pragma", "no-cache")]


def json_response(
    data: Mapping[str, Any], status: int = 200, extra: Sequence[tuple[str, str]] = ()
) -> Response:
    body = json.dumps(data, separators=(",", ":")).encode()
    headers = [("content-type", "application/json"), *NO_STORE, *extra]
    return Response(status, body, headers)


# RFC 3986 §2.2 reserved characters, plus unreserved punctuation and '%' (escapes stay)
URI_SAFE = ":/?#[]@!$&'()*+,;=-._~%"


def redirect(location: str, status: int = 302, extra: Sequence[tuple[str, str]] = ()) -> Response:
    """A redirect; anything outside printable ASCII in the target is percent-encoded, so no
    request data can break (or split) the Location header (RFC 9110 §10.2.2)."""
    return Response(status, b"", [("location", quote(location, safe=URI_SAFE)), *NO_STORE, *extra])


def add_query(uri: str, params: Mapping[str, str | None]) -> str:
    """Append parameters to a URI that may already have a query (RFC 6749 §3.1.2)."""
    parts = urlsplit(uri)
    extra = urlencode({k: v for k, v in params.items() if v is not None})
    query = f"{parts.query}&{extra}" if parts.query else extra
    return urlunsplit((parts.scheme, parts.netloc, parts.path, query, ""))


def cookie(
    name: str, value: str, *, secure: bool, max_age: int | None = None, path: str = "/"
) -> tuple[str, str]:
    attrs = [f"{name}={value}", f"Path={path}", "HttpOnly", "SameSite=Lax"]
    if secure:
        attrs.append("Secure")
    if max_age is not None:
        attrs.append(f"Max-Age={max_age}")
    return ("set-cookie", "; ".join(attrs))

"""Probe results: pass, fail (with the request and answer that prove it), n/a (with why) or
error (the check itself broke; one line saying how). Notes come first: what the whole run
could not do (a normal sign-in that did not complete, a request kept off another host).
Each id links to its check-catalogue entry: `doc` (its place in docs/checks.md) in JSON, and
under a failure in text the `valetkey explain ID` command that prints it."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field, replace
from functools import partial
from typing import Literal, TypeVar
from urllib.parse import urlsplit

import httpx

from valetkey import catalogue
from valetkey.catalogue.render import doc_link
from valetkey.oauth.redaction import fingerprint, masked

Status = Literal["pass", "fail", "n/a", "error"]
STATUSES: tuple[Status, ...] = ("pass", "fail", "n/a", "error")


@dataclass(frozen=True)
class Evidence:
    request: str
    response: str

    @classmethod
    def of(cls, response: httpx.Response, redact: tuple[str, ...] = ()) -> Evidence:
        """The request and answer, secrets masked; values in `redact` (a token the check
        found where it must not be) shown only by their fingerprint."""
        request = response.request
        url = httpx.URL(str(request.url))
        shown_url = str(url.copy_with(query=None, fragment=None)) + _masked_part(
            "?", url.query.decode("ascii", "replace")
        )
        shown_url += _masked_part("#", urlsplit(str(request.url)).fragment)
        body = ""
        try:
            content = request.content
        except httpx.RequestNotRead:
            content = b""
        if content and request.headers.get("content-type", "").startswith(
            "application/x-www-form-urlencoded"
        ):
            form = masked(dict(httpx.QueryParams(content.decode("utf-8", "replace"))))
            body = " " + "&".join(f"{k}={v}" for k, v in form.items())
        location = _redacted(response.headers.get("location", ""), redact)
        answer = f"{response.status_code}"
        if location:
            answer += f" Location: {location[:160]}"
        elif response.content:
            answer += f" {_redacted(response.text, redact)[:160]!r}"
        return cls(_redacted(f"{request.method} {shown_url}{body}", redact), answer)


def _masked_part(mark: str, encoded: str) -> str:
    """A query or fragment of name=value pairs, secrets masked (RFC 6749 §4.2.2 puts tokens
    in the fragment)."""
    pairs = masked(dict(httpx.QueryParams(encoded))) if encoded else {}
    return mark + "&".join(f"{k}={v}" for k, v in pairs.items()) if pairs else ""


def _redacted(text: str, values: tuple[str, ...]) -> str:
    for value in values:
        text = text.replace(value, fingerprint(value))
    return text


@dataclass(frozen=True)
class Result:
    id: str
    status: Status
    reason: str = ""
    evidence: list[Evidence] = field(default_factory=list)
    seconds: float = 0.0  # how long the check took

    def as_dict(self) -> dict[str, object]:
        return {
            "id": self.id,
            "status": self.status,
            "reason": self.reason,
            "seconds": round(self.seconds, 2),
            "evidence": [asdict(e) for e in self.evidence],
            "doc": reference(self.id),
        }


def reference(check_id: str) -> str:
    """The id's entry in docs/checks.md (`docs/checks.md#as-23`)."""
    entry = catalogue.lookup(check_id)
    return doc_link(entry) if entry is not None else ""


def passed(check_id: str, reason: str = "") -> Result:
    return Result(check_id, "pass", reason)


def failed(
    check_id: str, reason: str, *responses: httpx.Response, redact: tuple[str, ...] = ()
) -> Result:
    return Result(check_id, "fail", reason, [Evidence.of(r, redact) for r in responses])


def not_applicable(check_id: str, reason: str) -> Result:
    return Result(check_id, "n/a", reason)


def errored(check_id: str, exc: BaseException) -> Result:
    """A check that broke: its one-line reason, never a traceback."""
    text = " ".join(str(exc).split())[:200]
    return Result(check_id, "error", f"the check broke: {type(exc).__name__}: {text}".rstrip(": "))


def timed(check_id: str, run_check: Callable[[], Result]) -> Result:
    """Run one check, isolated: a crash is its `error` result; either way, with its time."""
    started = time.monotonic()
    try:
        result = run_check()
    except Exception as exc:
        result = errored(check_id, exc)
    return replace(result, seconds=time.monotonic() - started)


C = TypeVar("C")


def run_selected(
    run: Run,
    checks: Iterable[tuple[str, C]],
    only: Iterable[str] | None,
    progress: Callable[[str], None] | None,
    one: Callable[[str, C], Result],
) -> None:
    """Run the chosen checks (all without `only`) in id order, each isolated and timed."""
    wanted = {item.strip().upper() for item in only} if only else None
    for check_id, check in sorted(checks, key=lambda item: item[0]):
        if wanted is not None and check_id not in wanted:
            continue
        if progress is not None:
            progress(check_id)
        run.results.append(timed(check_id, partial(one, check_id, check)))


@dataclass
class Run:
    """One probe run: notes about the run as a whole, then one result per check."""

    target: str
    results: list[Result] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def status_of(self, check_id: str) -> Status | None:
        return next((r.status for r in self.results if r.id == check_id), None)


def to_json(run: Run) -> str:
    return json.dumps(
        {
            "target": run.target,
            "notes": run.notes,
            "seconds": round(run.seconds, 2),
            "results": [r.as_dict() for r in run.results],
        },
        indent=2,
    )


def to_text(run: Run, verbose: bool = False) -> str:
    """One line per check (with its time when `verbose`), then the counts and the run's time."""
    lines = [f"valetkey probe: {run.target}", *(f"NOTE  {note}" for note in run.notes), ""]
    results = run.results
    for result in results:
        mark = {"pass": "PASS", "fail": "FAIL", "n/a": "n/a ", "error": "ERR "}[result.status]
        took = f" ({result.seconds:.1f} s)" if verbose else ""
        lines.append(f"{mark}  {result.id}  {result.reason}".rstrip() + took)
        for evidence in result.evidence:
            lines.append(f"        sent:     {evidence.request}")
            lines.append(f"        answered: {evidence.response}")
        if result.status == "fail":
            lines.append(f"        explain:  valetkey explain {result.id}")
    counts = {s: sum(1 for r in results if r.status == s) for s in STATUSES}
    lines.append("")
    lines.append(
        f"{counts['pass']} passed, {counts['fail']} failed, {counts['n/a']} not applicable, "
        f"{counts['error']} broke; {run.seconds:.1f} s"
    )
    return "\n".join(lines) + "\n"

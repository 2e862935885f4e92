"""Probe results: pass, fail (with the request and answer that prove it) or n/a (with why)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Literal

import httpx

from valetkey.trace.masking import masked

Status = Literal["pass", "fail", "n/a"]


@dataclass(frozen=True)
class Evidence:
    request: str
    response: str

    @classmethod
    def of(cls, response: httpx.Response) -> Evidence:
        request = response.request
        url = httpx.URL(str(request.url))
        query = masked(dict(url.params))
        shown_url = str(url.copy_with(query=None)) + (
            "?" + "&".join(f"{k}={v}" for k, v in query.items()) if query else ""
        )
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
        location = response.headers.get("location", "")
        answer = f"{response.status_code}"
        if location:
            answer += f" Location: {location[:160]}"
        elif response.content:
            answer += f" {response.text[:160]!r}"
        return cls(f"{request.method} {shown_url}{body}", answer)


@dataclass(frozen=True)
class Result:
    id: str
    status: Status
    reason: str = ""
    evidence: list[Evidence] = field(default_factory=list)

    def as_dict(self) -> dict[str, object]:
        return {
            "id": self.id,
            "status": self.status,
            "reason": self.reason,
            "evidence": [asdict(e) for e in self.evidence],
        }


def passed(check_id: str, reason: str = "") -> Result:
    return Result(check_id, "pass", reason)


def failed(check_id: str, reason: str, *responses: httpx.Response) -> Result:
    return Result(check_id, "fail", reason, [Evidence.of(r) for r in responses])


def not_applicable(check_id: str, reason: str) -> Result:
    return Result(check_id, "n/a", reason)


def to_json(target: str, results: Sequence[Result]) -> str:
    return json.dumps({"target": target, "results": [r.as_dict() for r in results]}, indent=2)


def to_text(target: str, results: Sequence[Result]) -> str:
    lines = [f"valetkey probe: {target}", ""]
    for result in results:
        mark = {"pass": "PASS", "fail": "FAIL", "n/a": "n/a "}[result.status]
        lines.append(f"{mark}  {result.id}  {result.reason}".rstrip())
        for evidence in result.evidence:
            lines.append(f"        sent:     {evidence.request}")
            lines.append(f"        answered: {evidence.response}")
    counts = {s: sum(1 for r in results if r.status == s) for s in ("pass", "fail", "n/a")}
    lines.append("")
    lines.append(
        f"{counts['pass']} passed, {counts['fail']} failed, {counts['n/a']} not applicable"
    )
    return "\n".join(lines) + "\n"

"""After the whole suite: no stored flow record may hold a password, secret or token."""

from __future__ import annotations

import re
from collections.abc import Iterable

from sqlalchemy import create_engine, text
from sqlalchemy.exc import SQLAlchemyError

# what a whole bearer value looks like: a JWT, our opaque prefixes, a long base64url run
TOKEN_SHAPES = re.compile(
    r"eyJ[\w-]{8,}\.[\w-]{8,}\.[\w-]{8,}|vk_(?:at|rt)_[\w-]{20,}|[A-Za-z0-9_-]{40,}"
)


def _random_looking(value: str) -> bool:
    """Random base64url has upper case, lower case and digits; "xxxx..." padding does not."""
    return (
        any(c.isupper() for c in value)
        and any(c.islower() for c in value)
        and any(c.isdigit() for c in value)
    )


def scan(databases: Iterable[str], secrets: set[str]) -> list[str]:
    problems: list[str] = []
    for url in databases:
        try:
            engine = create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))
            with engine.connect() as conn:
                rows = conn.execute(
                    text("SELECT flow_id, step, summary, params, checks FROM flow_events")
                ).all()
            engine.dispose()
        except SQLAlchemyError as exc:
            if url.startswith("postgresql"):
                continue  # test databases on PostgreSQL are dropped when their test ends
            problems.append(f"{url}: cannot be read ({type(exc).__name__})")
            continue
        for flow_id, step, *fields in rows:
            blob = " ".join(str(f) for f in fields)
            for secret in secrets:
                if secret in blob:
                    problems.append(f"{url} flow {flow_id} {step}: holds a known secret")
            for match in filter(_random_looking, TOKEN_SHAPES.findall(blob)):
                problems.append(f"{url} flow {flow_id} {step}: token-shaped {match[:12]}…")
    return problems

"""What makes a submission itself: its canonical content hash (the idempotency check), its
folded search text, and the category it must name."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from app.errors import InvalidInput
from app.incidents.schemas import IncidentSubmission
from app.text import fold


def content_hash(sub: IncidentSubmission) -> str:
    """What makes two submissions "the same": everything the client sent but the id, with
    text in NFC, tags sorted and the time in UTC, so a retry from another phone matches."""
    content = sub.model_dump(mode="json", exclude={"id"})
    # `nature` came later: left at its default it is left out, so a retry of a submission
    # made before it existed still matches its stored hash.
    if content["properties"].get("nature") == "act":
        del content["properties"]["nature"]
    content["properties"]["occurred_at"] = sub.properties.occurred_at.astimezone(UTC).isoformat()
    canonical = json.dumps(content, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def search_text(title: str, description: str | None, tags: list[str]) -> str:
    return fold(" ".join([title, description or "", *tags]))


async def require_category(session: AsyncSession, category: str, field_name: str) -> None:
    """One indexed probe per category and request (a batch of 500 names a few); the whole
    taxonomy is read only to explain a miss."""
    known_ok: set[str] = session.info.setdefault("known_categories", set())
    if category in known_ok:
        return
    found = await session.execute(
        text("SELECT 1 FROM incident_categories WHERE code = :c"), {"c": category}
    )
    if found.first() is not None:
        known_ok.add(category)
        return
    known = (
        (await session.execute(text("SELECT code FROM incident_categories ORDER BY code")))
        .scalars()
        .all()
    )
    raise InvalidInput(
        f"unknown category {category!r}; known: {', '.join(known)}", field=field_name
    )

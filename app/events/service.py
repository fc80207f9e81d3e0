"""Emit events in the writer's transaction, with a delivery row for every matching
subscription, active or not (a disabled one's wait until it is enabled again): committed
together, so nothing acknowledged is lost by a restart."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.db import cached_text


@dataclass(frozen=True)
class Event:
    type: str
    payload: dict[str, Any]
    border: str | None = None
    province: str | None = None
    category: str | None = None


# Events and their deliveries in one statement, in the order given: a batch sync of 500
# incidents emits 500 events in one round trip.
_EMIT_SQL = """
WITH given AS (
  SELECT x.* FROM ROWS FROM (jsonb_to_recordset(CAST(:events AS jsonb))
      AS (type text, border text, province text, category text, payload jsonb))
    WITH ORDINALITY AS x(type, border, province, category, payload, n)
), inserted AS (
  INSERT INTO events (type, border, province_code, category, payload)
  SELECT type, border, province, category, payload FROM given ORDER BY n
  RETURNING id, type, border, province_code, category
), deliveries AS (
  INSERT INTO webhook_deliveries (subscription_id, event_id)
  SELECT s.id, e.id FROM inserted e JOIN webhook_subscriptions s
    ON e.type = ANY(s.event_types)
   AND (s.border IS NULL OR s.border = e.border)
   AND (s.province_code IS NULL OR s.province_code = e.province_code)
   AND (s.category IS NULL OR s.category = e.category)
)
SELECT id FROM inserted ORDER BY id
"""


async def emit_many(session: AsyncSession, events: list[Event]) -> list[int]:
    if not events:
        return []
    rows = await session.execute(
        cached_text(_EMIT_SQL),
        {
            "events": json.dumps(
                [
                    {
                        "type": e.type,
                        "border": e.border,
                        "province": e.province,
                        "category": e.category,
                        "payload": e.payload,
                    }
                    for e in events
                ],
                ensure_ascii=False,
                default=str,
            )
        },
    )
    return [int(r[0]) for r in rows]


async def emit(
    session: AsyncSession,
    *,
    type: str,
    payload: dict[str, Any],
    border: str | None = None,
    province: str | None = None,
    category: str | None = None,
) -> int:
    (event_id,) = await emit_many(session, [Event(type, payload, border, province, category)])
    return event_id

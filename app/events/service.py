"""Emit events in the writer's transaction, with a delivery row for every matching
subscription: committed together, so nothing acknowledged is lost by a restart."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession


async def emit(
    session: AsyncSession,
    *,
    type: str,
    payload: dict[str, Any],
    border: str | None = None,
    province: str | None = None,
    category: str | None = None,
) -> int:
    event_id = int(
        (
            await session.execute(
                text(
                    "INSERT INTO events (type, border, province_code, category, payload) "
                    "VALUES (:t, :b, :p, :c, CAST(:payload AS jsonb)) RETURNING id"
                ),
                {
                    "t": type,
                    "b": border,
                    "p": province,
                    "c": category,
                    "payload": json.dumps(payload, ensure_ascii=False, default=str),
                },
            )
        ).scalar_one()
    )
    await session.execute(
        text(
            """
            INSERT INTO webhook_deliveries (subscription_id, event_id)
            SELECT s.id, :e FROM webhook_subscriptions s
            WHERE s.active AND :t = ANY(s.event_types)
              AND (s.border IS NULL OR s.border = :b)
              AND (s.province_code IS NULL OR s.province_code = :p)
              AND (s.category IS NULL OR s.category = :c)
            """
        ),
        {"e": event_id, "t": type, "b": border, "p": province, "c": category},
    )
    return event_id

"""What every change to incidents writes besides the row: its history (append-only) and
its events (webhooks and the stream)."""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.caller import Caller
from app.db import cached_text
from app.events.service import Event, emit_many
from app.incidents.bulk import EVENT_COLUMNS

_HISTORY_SQL = """
INSERT INTO incident_history (incident_id, actor_token_id, actor_name, action, changes, note,
                              document_ref, effective_at)
SELECT e.incident_id, CAST(:token AS uuid), :name, :action, e.changes, :note, :doc,
       CAST(:effective AS timestamptz)
FROM jsonb_to_recordset(CAST(:entries AS jsonb)) AS e(incident_id uuid, changes jsonb)
"""


async def write_history(
    session: AsyncSession,
    *,
    entries: list[tuple[uuid.UUID, dict[str, Any]]],
    caller: Caller,
    action: str,
    note: str | None = None,
    document_ref: str | None = None,
    effective_at: datetime | None = None,
) -> None:
    """One history row per (incident, changes), in one statement (a batch of 500: one
    execution, not 500)."""
    await session.execute(
        cached_text(_HISTORY_SQL),
        {
            "token": caller.token_id,
            "name": caller.name,
            "action": action,
            "note": note,
            "doc": document_ref,
            "effective": effective_at,
            "entries": json.dumps(
                [{"incident_id": str(i), "changes": c} for i, c in entries],
                ensure_ascii=False,
                default=str,
            ),
        },
    )


async def emit_events(
    session: AsyncSession,
    event_type: str,
    items: list[tuple[uuid.UUID, dict[str, Any]]],
    *,
    rows: Mapping[uuid.UUID, Mapping[Any, Any]] | None = None,
) -> None:
    """One event per incident (with its extra payload), from the rows as they now stand:
    read here unless given (EVENT_COLUMNS and the border's code, by id)."""
    if rows is None:
        rows = {
            row.id: row._mapping
            for row in await session.execute(
                text(
                    f"SELECT {', '.join(f'i.{c}' for c in EVENT_COLUMNS)}, b.code AS border "  # noqa: S608
                    "FROM incidents i JOIN borders b ON b.id = i.border_id "
                    "WHERE i.id = ANY(CAST(:ids AS uuid[]))"
                ),
                {"ids": [str(incident_id) for incident_id, _ in items]},
            )
        }
    events = []
    for incident_id, extra in items:
        row = rows[incident_id]
        payload = {
            "id": str(incident_id),
            "href": f"/api/v1/incidents/{incident_id}",
            "title": row["title"],
            "category": row["category"],
            "status": row["status"],
            "severity": row["severity"],
            "occurred_at": row["occurred_at"].isoformat(),
            "border": row["border"],
            "province": row["province_code"],
            "district": row["district_code"],
            "commune": row["commune_code"],
            "chainage_ref": row["chainage_ref"],
            "side": row["side"],
            **extra,
        }
        events.append(
            Event(event_type, payload, row["border"], row["province_code"], row["category"])
        )
    await emit_many(session, events)

"""Completed parts of clearing works: recorded by officers, or the whole stretch when a
work is marked completed without parts; the line's clearing status is read from them."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from app.areas.service import require_area
from app.audit.service import record
from app.auth.caller import Caller
from app.auth.models import Role
from app.auth.scopes import require_role
from app.chainage.service import resolve_prefixed_range
from app.clearing.models import WorkStatus
from app.clearing.schemas import CompletionCreate
from app.errors import Conflict, InvalidInput, NotFound
from app.events.service import emit


async def load_for_update(session: AsyncSession, work_id: uuid.UUID) -> Any:
    row = (
        await session.execute(
            text(
                "SELECT w.*, b.code AS border, encode(ST_AsBinary(w.geom), 'hex') AS wkb "
                "FROM clearing_works w JOIN borders b ON b.id = w.border_id "
                "WHERE w.id = :id FOR UPDATE OF w"
            ),
            {"id": work_id},
        )
    ).one_or_none()
    if row is None:
        raise NotFound(f"no clearing work {work_id}")
    return row


async def mark_completed(session: AsyncSession, work_id: uuid.UUID, on: date) -> None:
    """A work became completed: record the whole stretch when no part was recorded, and
    tell subscribers."""
    await _complete_whole(session, work_id, on)
    row = (
        await session.execute(
            text(
                "SELECT w.range_ref, w.kind, w.length_m, w.province_codes, b.code AS border "
                "FROM clearing_works w JOIN borders b ON b.id = w.border_id WHERE w.id = :id"
            ),
            {"id": work_id},
        )
    ).one()
    provinces = list(row.province_codes)
    await emit(
        session,
        type="clearing_work.completed",
        border=row.border,
        province=provinces[0] if provinces else None,
        payload={
            "id": str(work_id),
            "href": f"/api/v1/clearing-works/{work_id}",
            "range": row.range_ref,
            "kind": row.kind,
            "length_m": round(row.length_m, 1),
            "completed_on": on.isoformat(),
            "provinces": provinces,
        },
    )


async def _complete_whole(session: AsyncSession, work_id: uuid.UUID, on: date) -> None:
    """A work marked completed with no parts recorded was completed whole."""
    await session.execute(
        text(
            """
            INSERT INTO clearing_completions (work_id, border_id, start_m, end_m, completed_on,
                                              note)
            SELECT w.id, w.border_id, w.start_m, w.end_m, :on, 'whole stretch (status completed)'
            FROM clearing_works w
            WHERE w.id = :w
              AND NOT EXISTS (SELECT 1 FROM clearing_completions c WHERE c.work_id = w.id)
            """
        ),
        {"w": work_id, "on": on},
    )


async def add_completion(
    session: AsyncSession, *, caller: Caller, work_id: uuid.UUID, body: CompletionCreate
) -> None:
    """Record a completed part; it must lie within the work's stretch. Commits."""
    require_role(caller, Role.officer)
    current = await load_for_update(session, work_id)
    await require_area(session, caller, wkb_hex=current.wkb, what=f"clearing work {work_id}")
    if current.status == WorkStatus.cancelled.value:
        raise Conflict(f"clearing work {work_id} is cancelled")
    part = await resolve_prefixed_range(
        session, body.range, field="range", border_hint=current.border
    )
    if part.border != current.border:
        raise InvalidInput(
            f"the part lies on {part.border}, the work on {current.border}", field="range"
        )
    tolerance = 0.5
    if (
        part.start.chainage_m < current.start_m - tolerance
        or part.end.chainage_m > current.end_m + tolerance
    ):
        raise InvalidInput(
            f"{part.ref} runs outside the work's stretch {current.range_ref}", field="range"
        )
    await session.execute(
        text(
            "INSERT INTO clearing_completions (work_id, border_id, start_m, end_m, "
            "completed_on, note) VALUES (:w, :b, :s, :e, :on, :note)"
        ),
        {
            "w": work_id,
            "b": current.border_id,
            "s": max(part.start.chainage_m, current.start_m),
            "e": min(part.end.chainage_m, current.end_m),
            "on": body.completed_on,
            "note": body.note,
        },
    )
    await session.execute(
        text(
            "UPDATE clearing_works SET version = version + 1, updated_at = now(), "
            "status = CASE WHEN status = 'planned' THEN 'in_progress' ELSE status END, "
            "actual_start = coalesce(actual_start, :on) WHERE id = :id"
        ),
        {"id": work_id, "on": body.completed_on},
    )
    record(
        session,
        caller=caller,
        action="clearing_work.completion",
        entity_type="clearing_work",
        entity_id=str(work_id),
        detail={"range": part.ref, "completed_on": body.completed_on.isoformat()},
    )
    await session.commit()

"""Writes to segments: only the per-segment sightline override (the rest is derived from
the marker register, see app/markers/service.py:rebuild_segments)."""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from app.audit.service import record
from app.auth.caller import Caller
from app.auth.models import Role
from app.auth.scopes import require_role
from app.borders.service import zones_changed
from app.errors import NotFound


async def set_sightline_override(
    session: AsyncSession, *, caller: Caller, segment_id: int, width_m: float | None
) -> None:
    """Set (or clear with None) a segment's sightline corridor width. Admins. Commits."""
    require_role(caller, Role.admin)
    previous = (
        await session.execute(
            text(
                "UPDATE segments s SET sightline_width_m = :w FROM segments old "
                "WHERE s.id = :id AND old.id = s.id RETURNING old.sightline_width_m, s.border_id"
            ),
            {"w": width_m, "id": segment_id},
        )
    ).one_or_none()
    if previous is None:
        raise NotFound(f"no segment {segment_id}")
    record(
        session,
        caller=caller,
        action="segment.sightline_override",
        entity_type="segment",
        entity_id=str(segment_id),
        detail={"from": previous[0], "to": width_m},
    )
    await zones_changed(session, int(previous[1]))
    await session.commit()

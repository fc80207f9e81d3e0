"""Writes to crossings: record one, date a change of its status, link what concerns it.
Officers act in their own province, admins everywhere; every write is audited, and the
functions that commit say so (`_and_commit`)."""

from __future__ import annotations

import uuid
from typing import Any

from shapely.geometry.base import BaseGeometry
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from app.audit.service import record
from app.auth.caller import Caller
from app.auth.models import Role
from app.auth.scopes import require_province, require_role
from app.crossings.models import CrossingStatus
from app.crossings.schemas import CrossingCreate, LinkIn, StatusChangeIn
from app.db import require_row
from app.errors import Conflict, InvalidInput, NotFound
from app.incidents.location import Place, from_location


async def create_and_commit(session: AsyncSession, *, caller: Caller, body: CrossingCreate) -> int:
    require_role(caller, Role.officer)
    require_province(caller, body.province, what="the crossing")
    place = await from_location(session, body.location, body.border)
    # A stretch (a marker pair) stands for the crossing at its middle.
    point = (
        place.geom
        if place.geom.geom_type == "Point"
        else place.geom.interpolate(0.5, normalized=True)
    )
    parent_id = None
    if body.part_of is not None:
        parent_id = (
            await session.execute(
                text("SELECT id FROM crossings WHERE code = :c"), {"c": body.part_of}
            )
        ).scalar_one_or_none()
        if parent_id is None:
            raise InvalidInput(f"no crossing {body.part_of!r}", field="part_of")
    try:
        async with session.begin_nested():  # a taken code leaves the transaction usable
            crossing_id = await _insert(session, caller, body, place, parent_id, point)
    except IntegrityError as exc:
        raise Conflict(f"a crossing {body.code!r} is already recorded") from exc
    if body.status is not None:
        await _change(session, caller, crossing_id, body.status)
    record(
        session,
        caller=caller,
        action="crossing.create",
        entity_type="crossing",
        entity_id=str(crossing_id),
        detail={"code": body.code, "province": body.province},
    )
    await session.commit()
    return int(crossing_id)


async def _insert(
    session: AsyncSession,
    caller: Caller,
    body: CrossingCreate,
    place: Place,
    parent_id: int | None,
    point: BaseGeometry,
) -> int:
    return int(
        (
            await session.execute(
                text(
                    """
                    INSERT INTO crossings (code, border_id, name_vn, name_other, level, serves,
                        parent_id, location_ref, geom, place_illustrative, province_code,
                        other_side_unit, note, created_by)
                    VALUES (:code, :border_id, :name_vn, :name_other, :level, :serves, :parent,
                        :loc, ST_GeomFromText(:wkt, 4326), :illustrative, :province, :unit,
                        :note, :by)
                    RETURNING id
                    """
                ),
                {
                    "code": body.code,
                    "border_id": place.border_id,
                    "name_vn": body.name_vn,
                    "name_other": body.name_other,
                    "level": body.level.value,
                    "serves": [s.value for s in body.serves],
                    "parent": parent_id,
                    "loc": place.location_ref,
                    "wkt": point.wkt,
                    "illustrative": body.place_illustrative,
                    "province": body.province,
                    "unit": body.other_side_unit,
                    "note": body.note,
                    "by": caller.name,
                },
            )
        ).scalar_one()
    )


async def _writable(session: AsyncSession, caller: Caller, crossing_id: int) -> Any:
    require_role(caller, Role.officer)
    current = (
        await session.execute(
            text("SELECT id, province_code, level FROM crossings WHERE id = :id FOR UPDATE"),
            {"id": crossing_id},
        )
    ).one_or_none()
    if current is None:
        raise NotFound(f"no crossing {crossing_id}")
    require_province(caller, current.province_code, what=f"crossing {crossing_id}")
    return current


async def _change(
    session: AsyncSession, caller: Caller, crossing_id: int, change: StatusChangeIn
) -> None:
    """Add a dated change; the crossing's status (and level, on an upgrade) become its
    latest change's, whatever order the changes are recorded in."""
    if change.status is CrossingStatus.upgraded and change.level is None:
        raise InvalidInput("an upgrade names the level it upgrades to", field="level")
    await require_row(session, "documents", change.document_id, field="document_id")
    await session.execute(
        text(
            """
            INSERT INTO crossing_status_changes (crossing_id, status, level, effective_on,
                dated_by, reason, document_id, section, recorded_by)
            VALUES (:id, :status, :level, :on, :dated_by, :reason, :doc, :section, :by)
            """
        ),
        {
            "id": crossing_id,
            "status": change.status.value,
            "level": change.level.value if change.level else None,
            "on": change.effective_on,
            "dated_by": change.dated_by.value,
            "reason": change.reason,
            "doc": change.document_id,
            "section": change.section,
            "by": caller.name,
        },
    )
    await session.execute(
        text(
            """
            UPDATE crossings c SET version = version + 1, updated_at = now(),
              status = latest.status, level = coalesce(latest.level, c.level)
            FROM (SELECT h.status, (SELECT l.level FROM crossing_status_changes l
                                    WHERE l.crossing_id = :id AND l.level IS NOT NULL
                                    ORDER BY l.effective_on DESC, l.id DESC LIMIT 1) AS level
                  FROM crossing_status_changes h WHERE h.crossing_id = :id
                  ORDER BY h.effective_on DESC, h.id DESC LIMIT 1) latest
            WHERE c.id = :id
            """
        ),
        {"id": crossing_id},
    )


async def change_status_and_commit(
    session: AsyncSession, *, caller: Caller, crossing_id: int, change: StatusChangeIn
) -> None:
    await _writable(session, caller, crossing_id)
    await _change(session, caller, crossing_id, change)
    record(
        session,
        caller=caller,
        action="crossing.status",
        entity_type="crossing",
        entity_id=str(crossing_id),
        detail={"status": change.status.value, "effective_on": change.effective_on.isoformat()},
    )
    await session.commit()


_TABLE_OF = {
    "incident": "incidents",
    "clearing_work": "clearing_works",
    "approval": "approval_requests",
}


async def link_and_commit(
    session: AsyncSession, *, caller: Caller, crossing_id: int, link: LinkIn
) -> bool:
    """Say that an incident, a work or an approval request concerns the crossing: whether
    the link is new."""
    await _writable(session, caller, crossing_id)
    try:
        target = uuid.UUID(link.id)
    except ValueError as exc:
        raise InvalidInput(f"{link.id!r} is not an id", field="id") from exc
    what = link.type.replace("_", " ")
    await require_row(session, _TABLE_OF[link.type], target, field="id", what=what)
    added = (
        await session.execute(
            text(
                "INSERT INTO crossing_links (crossing_id, entity_type, entity_id, linked_by) "
                "VALUES (:c, :t, :i, :by) ON CONFLICT DO NOTHING RETURNING 1"
            ),
            {"c": crossing_id, "t": link.type, "i": str(target), "by": caller.name},
        )
    ).first() is not None
    record(
        session,
        caller=caller,
        action="crossing.link",
        entity_type="crossing",
        entity_id=str(crossing_id),
        detail={"type": link.type, "id": str(target)},
    )
    await session.commit()
    return added

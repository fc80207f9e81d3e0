"""Recording inspections and repairs of markers. Officers of the marker's province and
admins write; a retry with the same id is a duplicate, not a second record. The marker's
condition and last inspection day follow its latest inspection."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from app.audit.service import record
from app.auth.caller import Caller
from app.auth.models import Role
from app.auth.scopes import require_province, require_role
from app.db import require_row
from app.errors import InvalidInput
from app.geo.chainage import drop_document_words
from app.geo.marker_codes import InvalidMarkerCode, parse_marker_code
from app.inspections.models import RepairStatus
from app.inspections.schemas import InspectionCreate, MarkerRef, RepairCreate
from app.markers.queries import no_such_marker


async def _marker(session: AsyncSession, caller: Caller, ref: MarkerRef) -> Any:
    """The marker a record is about, once the caller may write for it."""
    require_role(caller, Role.officer)
    try:
        code = parse_marker_code(drop_document_words(ref.marker))
    except InvalidMarkerCode as exc:
        raise InvalidInput(str(exc), field="marker") from exc
    found = (
        await session.execute(
            text(
                "SELECT m.id, m.code, m.province_code FROM markers m "
                "JOIN borders b ON b.id = m.border_id WHERE b.code = :border "
                "AND m.number = :n AND m.aux_index = :a AND m.bank_index = :k"
            ),
            {"border": ref.border.upper(), "n": code.number, "a": code.aux, "k": code.bank},
        )
    ).one_or_none()
    if found is None:
        raise no_such_marker(code, "marker")
    require_province(caller, found.province_code, what=f"marker {found.code}")
    return found


async def record_inspection_and_commit(
    session: AsyncSession, *, caller: Caller, body: InspectionCreate
) -> tuple[uuid.UUID, bool]:
    """(its id, whether it is new)."""
    recorded = await record_inspection(session, caller=caller, body=body)
    await session.commit()
    return recorded


async def record_inspection(
    session: AsyncSession,
    *,
    caller: Caller,
    body: InspectionCreate,
    patrol_id: uuid.UUID | None = None,
) -> tuple[uuid.UUID, bool]:
    """As record_inspection_and_commit, in the caller's transaction (a patrol's checks)."""
    marker = await _marker(session, caller, body)
    await require_row(session, "documents", body.document_id, field="document_id")
    inspection_id = body.id or uuid.uuid4()
    inserted = (
        await session.execute(
            text(
                """
                INSERT INTO marker_inspections (id, marker_id, inspected_on, unit, inspectors,
                    joint, other_side_participants, condition, notes, document_id, section,
                    illustrative, recorded_by, patrol_id)
                VALUES (:id, :marker, :on, :unit, :inspectors, :joint, :other, :condition,
                    :notes, :doc, :section, :illustrative, :by, :patrol)
                ON CONFLICT (id) DO NOTHING RETURNING id
                """
            ),
            {
                "id": inspection_id,
                "marker": marker.id,
                "on": body.inspected_on,
                "unit": body.unit,
                "inspectors": body.inspectors,
                "joint": body.joint,
                "other": body.other_side_participants,
                "condition": body.condition.value,
                "notes": body.notes,
                "doc": body.document_id,
                "section": body.section,
                "illustrative": body.illustrative,
                "by": caller.name,
                "patrol": patrol_id,
            },
        )
    ).first()
    if inserted is None:
        return inspection_id, False
    # The latest inspection decides, whatever order they are recorded in.
    await session.execute(
        text(
            """
            UPDATE markers m SET condition = latest.condition,
              last_inspected_on = latest.inspected_on, version = version + 1,
              updated_at = now()
            FROM (SELECT condition, inspected_on FROM marker_inspections
                  WHERE marker_id = :marker
                  ORDER BY inspected_on DESC, recorded_at DESC LIMIT 1) latest
            WHERE m.id = :marker
            """
        ),
        {"marker": marker.id},
    )
    record(
        session,
        caller=caller,
        action="marker.inspection",
        entity_type="marker",
        entity_id=str(marker.id),
        detail={"code": marker.code, "condition": body.condition.value},
    )
    return inspection_id, True


async def record_repair_and_commit(
    session: AsyncSession, *, caller: Caller, body: RepairCreate
) -> tuple[uuid.UUID, bool]:
    if body.status is RepairStatus.done and body.done_on is None:
        raise InvalidInput("a done repair gives its day (done_on)", field="done_on")
    marker = await _marker(session, caller, body)
    await require_row(session, "documents", body.document_id, field="document_id")
    await require_row(session, "incidents", body.incident_id, field="incident_id")
    repair_id = body.id or uuid.uuid4()
    inserted = (
        await session.execute(
            text(
                """
                INSERT INTO marker_repairs (id, marker_id, kind, side, status, planned_on,
                    done_on, incident_id, document_id, section, notes, illustrative,
                    recorded_by)
                VALUES (:id, :marker, :kind, :side, :status, :planned, :done, :incident,
                    :doc, :section, :notes, :illustrative, :by)
                ON CONFLICT (id) DO NOTHING RETURNING id
                """
            ),
            {
                "id": repair_id,
                "marker": marker.id,
                "kind": body.kind.value,
                "side": body.side.value,
                "status": body.status.value,
                "planned": body.planned_on,
                "done": body.done_on,
                "incident": body.incident_id,
                "doc": body.document_id,
                "section": body.section,
                "notes": body.notes,
                "illustrative": body.illustrative,
                "by": caller.name,
            },
        )
    ).first()
    if inserted is None:
        return repair_id, False
    record(
        session,
        caller=caller,
        action="marker.repair",
        entity_type="marker",
        entity_id=str(marker.id),
        detail={"code": marker.code, "kind": body.kind.value, "status": body.status.value},
    )
    await session.commit()
    return repair_id, True

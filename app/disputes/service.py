"""The register of disputed areas: recorded and moved by officers of the province and
admins, read in the caller's province (officers, reporters) or everywhere (admins,
analysts). An area's talks are the steps of the incident that follows it."""

from __future__ import annotations

import json
import uuid
from datetime import date
from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from app.audit.service import record
from app.auth.caller import Caller
from app.auth.models import Role
from app.auth.scopes import read_scope, require_province, require_role
from app.cases.service import steps_of
from app.db import require_row
from app.disputes.models import DisputeState
from app.errors import Conflict, InvalidInput, NotFound
from app.geojson import COORD_DECIMALS
from app.incidents.location import from_location
from app.sql import Sql


class DisputedAreaCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    code: str = Field(min_length=2, max_length=60, pattern=r"^[a-z0-9][a-z0-9-]*$")
    border: str = Field(max_length=5)
    province: str = Field(max_length=40)
    location: str | None = Field(default=None, max_length=120, examples=["VN-CN:khu vực mốc 1163"])
    our_view: str | None = Field(default=None, max_length=4000)
    their_view: str | None = Field(default=None, max_length=4000)
    since: date | None = None
    since_dated_by: str = Field(default="event", pattern="^(event|report)$")
    state: DisputeState = DisputeState.open
    incident_id: uuid.UUID | None = Field(default=None, description="Its talks are its steps")
    document_id: uuid.UUID | None = None
    section: str | None = Field(default=None, max_length=40)
    notes: str | None = Field(default=None, max_length=4000)


class StateChange(BaseModel):
    model_config = ConfigDict(extra="forbid")

    state: DisputeState
    on: date | None = Field(default=None, description="The day it was settled")


_AREA = f"""json_build_object('id', d.id, 'code', d.code, 'border', b.code,
  'province', d.province_code, 'location', d.location_ref,
  'geometry', ST_AsGeoJSON(d.geom, {COORD_DECIMALS})::json, 'our_view', d.our_view,
  'their_view', d.their_view, 'since', d.since, 'since_dated_by', d.since_dated_by,
  'state', d.state, 'settled_on', d.settled_on, 'incident_id', d.incident_id,
  'document_id', d.document_id, 'section', d.section, 'notes', d.notes, 'version', d.version)"""
_VISIBLE = "(CAST(:scope AS text) IS NULL OR d.province_code = :scope)"

# The area as a map feature (the disputed-areas layer): the register's record less its
# geometry member, which is the feature's own.
DISPUTE_FEATURE = f"""json_build_object('type', 'Feature', 'id', d.id,
  'geometry', ST_AsGeoJSON(d.geom, {COORD_DECIMALS})::json,
  'properties', ({_AREA})::jsonb - 'geometry' - 'id')"""


def visibility(caller: Caller) -> Sql:
    """Disputed areas are read in the caller's province (admins and analysts: all)."""
    return Sql(_VISIBLE, {"scope": read_scope(caller)})


async def list_areas(
    session: AsyncSession, *, caller: Caller, province: str | None, state: str | None
) -> list[Any]:
    found = await session.execute(
        text(
            f"SELECT coalesce(json_agg(({_AREA}) ORDER BY b.code, d.code), '[]')::text "  # noqa: S608
            f"FROM disputed_areas d JOIN borders b ON b.id = d.border_id WHERE {_VISIBLE} "
            "AND (CAST(:province AS text) IS NULL OR d.province_code = :province) "
            "AND (CAST(:state AS text) IS NULL OR d.state = :state)"
        ),
        {"scope": read_scope(caller), "province": province, "state": state},
    )
    return list(json.loads(found.scalar_one()))


async def get_area(session: AsyncSession, area_id: int, *, caller: Caller) -> dict[str, Any]:
    found = (
        await session.execute(
            text(
                f"SELECT ({_AREA})::text FROM disputed_areas d "  # noqa: S608
                f"JOIN borders b ON b.id = d.border_id WHERE d.id = :id AND {_VISIBLE}"
            ),
            {"id": area_id, "scope": read_scope(caller)},
        )
    ).scalar_one_or_none()
    if found is None:
        raise NotFound(f"no disputed area {area_id}")
    area: dict[str, Any] = json.loads(found)
    incident = area["incident_id"]
    area["talks"] = await steps_of(session, uuid.UUID(incident), caller=caller) if incident else []
    return area


async def create_and_commit(
    session: AsyncSession, *, caller: Caller, body: DisputedAreaCreate
) -> int:
    require_role(caller, Role.officer)
    require_province(caller, body.province, what="the disputed area")
    place = await from_location(session, body.location, body.border) if body.location else None
    border_id = place.border_id if place else None
    if border_id is None:
        border_id = (
            await session.execute(
                text("SELECT id FROM borders WHERE code = :c"), {"c": body.border.upper()}
            )
        ).scalar_one_or_none()
        if border_id is None:
            raise InvalidInput(f"no border {body.border}", field="border")
    await require_row(session, "incidents", body.incident_id, field="incident_id")
    await require_row(session, "documents", body.document_id, field="document_id")
    if body.state is DisputeState.settled:
        raise InvalidInput("record it open or under talks, then settle it", field="state")
    try:
        async with session.begin_nested():
            area_id = (
                await session.execute(
                    text(
                        """
                        INSERT INTO disputed_areas (code, border_id, province_code, location_ref,
                            geom, our_view, their_view, since, since_dated_by, state,
                            incident_id, document_id, section, notes, created_by)
                        VALUES (:code, :border_id, :province, :ref, ST_GeomFromText(:wkt, 4326),
                            :ours, :theirs, :since, :dated_by, :state, :incident, :doc,
                            :section, :notes, :by)
                        RETURNING id
                        """
                    ),
                    {
                        "code": body.code,
                        "border_id": border_id,
                        "province": body.province,
                        "ref": place.location_ref if place else None,
                        "wkt": place.geom.wkt if place else None,
                        "ours": body.our_view,
                        "theirs": body.their_view,
                        "since": body.since,
                        "dated_by": body.since_dated_by,
                        "state": body.state.value,
                        "incident": body.incident_id,
                        "doc": body.document_id,
                        "section": body.section,
                        "notes": body.notes,
                        "by": caller.name,
                    },
                )
            ).scalar_one()
    except IntegrityError as exc:
        raise Conflict(f"a disputed area {body.code!r} is already recorded") from exc
    record(
        session,
        caller=caller,
        action="disputed_area.create",
        entity_type="disputed_area",
        entity_id=str(area_id),
        detail={"code": body.code},
    )
    await session.commit()
    return int(area_id)


async def change_state_and_commit(
    session: AsyncSession, *, caller: Caller, area_id: int, change: StateChange
) -> None:
    require_role(caller, Role.officer)
    current = (
        await session.execute(
            text("SELECT province_code, state FROM disputed_areas WHERE id = :id FOR UPDATE"),
            {"id": area_id},
        )
    ).one_or_none()
    if current is None:
        raise NotFound(f"no disputed area {area_id}")
    require_province(caller, current.province_code, what=f"disputed area {area_id}")
    if current.state == DisputeState.settled.value:
        raise Conflict(f"disputed area {area_id} is settled")
    if change.state is DisputeState.settled and change.on is None:
        raise InvalidInput("a settled area gives the day it was settled (on)", field="on")
    await session.execute(
        text(
            "UPDATE disputed_areas SET state = :state, settled_on = :on, "
            "version = version + 1, updated_at = now() WHERE id = :id"
        ),
        {"state": change.state.value, "on": change.on, "id": area_id},
    )
    record(
        session,
        caller=caller,
        action="disputed_area.state",
        entity_type="disputed_area",
        entity_id=str(area_id),
        detail={"from": current.state, "to": change.state.value},
    )
    await session.commit()

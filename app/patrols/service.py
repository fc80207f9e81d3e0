"""Recording a patrol: its route (a stretch resolved on the line, or a GPS track within
reach of it), its checks of markers (each an inspection, in the same transaction) and the
incidents it reported. Officers of the province and admins record; a retry with the same
id is a duplicate."""

from __future__ import annotations

import uuid

import shapely
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from app.areas.placement import valid_on
from app.audit.service import record
from app.auth.caller import Caller
from app.auth.models import Role
from app.auth.scopes import require_province, require_role
from app.borders.service import border_id_of
from app.chainage.service import resolve_prefixed_range
from app.db import require_row
from app.errors import InvalidInput
from app.geo.geometry import InvalidGeometry, parse_geometry
from app.incidents.location import check_reach, distance_to_border
from app.inspections.schemas import InspectionCreate
from app.inspections.service import record_inspection
from app.patrols.schemas import PatrolCreate
from app.timestamps import LOCAL

MAX_TRACK_VERTICES = 20_000


async def _route(session: AsyncSession, body: PatrolCreate) -> tuple[str, str | None]:
    """The route as WKT, and its stretch's reference when given as one."""
    if (body.route is None) == (body.track is None):
        raise InvalidInput("give exactly one of route or track", field="route")
    if body.route is not None:
        stretch = await resolve_prefixed_range(
            session, body.route, field="route", border_hint=body.border
        )
        return shapely.geometry.shape(stretch.geometry).wkt, f"{stretch.border}:{stretch.ref}"
    try:
        track = parse_geometry(body.track, epsg=4326, max_vertices=MAX_TRACK_VERTICES)
    except InvalidGeometry as exc:
        raise InvalidInput(exc.message, field="track") from exc
    if track.geom_type not in ("LineString", "MultiLineString"):
        raise InvalidInput("a track is a LineString", field="track")
    border_id = await border_id_of(session, body.border)
    check_reach(await distance_to_border(session, track, border_id), body.border.upper())
    return track.wkt, None


async def _unit(session: AsyncSession, body: PatrolCreate) -> str:
    """Who patrolled: the unit given, else the station's name; a station named must be one
    of the patrol's province, valid when the patrol started."""
    if body.station is None:
        assert body.unit is not None  # the schema asks for one of the two
        return body.unit
    day = body.started_at.astimezone(LOCAL).date()
    found = (
        await session.execute(
            text(
                "SELECT u.name_vi, u.province_code FROM admin_units u WHERE u.code = :code "  # noqa: S608
                f"AND u.level = 'station' AND {valid_on(':day')}"
            ),
            {"code": body.station, "day": day},
        )
    ).first()
    if found is None:
        raise InvalidInput(f"no station {body.station!r} on {day}", field="station")
    if found.province_code != body.province:
        raise InvalidInput(
            f"station {body.station} is in {found.province_code}, not {body.province}",
            field="station",
        )
    return body.unit or str(found.name_vi)


async def record_and_commit(
    session: AsyncSession, *, caller: Caller, body: PatrolCreate
) -> tuple[uuid.UUID, bool]:
    require_role(caller, Role.officer)
    require_province(caller, body.province, what="the patrol")
    if body.ended_at < body.started_at:
        raise InvalidInput("ended_at is before started_at", field="ended_at")
    known = (
        await session.execute(text("SELECT 1 FROM patrols WHERE id = :id"), {"id": body.id})
    ).first()
    if known is not None:
        return body.id, False
    wkt, route_ref = await _route(session, body)
    unit = await _unit(session, body)
    # One savepoint for the route, the checks and the links: a refused check or link
    # leaves nothing of the patrol behind.
    async with session.begin_nested():
        border_id = await border_id_of(session, body.border)
        await session.execute(
            text(
                """
                INSERT INTO patrols (id, unit, station_code, province_code, border_id, started_at,
                    ended_at, route_ref, geom, length_m, notes, recorded_by)
                VALUES (:id, :unit, :station, :province, :border_id, :start, :end, :ref,
                    ST_GeomFromText(:wkt, 4326), ST_Length(ST_GeomFromText(:wkt, 4326)::geography),
                    :notes, :by)
                ON CONFLICT (id) DO NOTHING
                """
            ),
            {
                "id": body.id,
                "unit": unit,
                "station": body.station,
                "province": body.province,
                "border_id": border_id,
                "start": body.started_at,
                "end": body.ended_at,
                "ref": route_ref,
                "wkt": wkt,
                "notes": body.notes,
                "by": caller.name,
            },
        )
        day = body.started_at.astimezone(LOCAL).date()
        for check in body.checked:
            await record_inspection(
                session,
                caller=caller,
                body=InspectionCreate(
                    id=uuid.uuid5(body.id, check.marker),
                    border=body.border,
                    marker=check.marker,
                    inspected_on=day,
                    condition=check.condition,
                    unit=unit,
                    notes=check.notes,
                ),
                patrol_id=body.id,
            )
        for incident_id in body.incident_ids:
            await require_row(
                session, "incidents", incident_id, field="incident_ids", what="incident"
            )
            await session.execute(
                text(
                    "INSERT INTO patrol_incidents (patrol_id, incident_id) VALUES (:p, :i) "
                    "ON CONFLICT DO NOTHING"
                ),
                {"p": body.id, "i": incident_id},
            )
    record(
        session,
        caller=caller,
        action="patrol.create",
        entity_type="patrol",
        entity_id=str(body.id),
        detail={"unit": unit, "route": route_ref, "checked": len(body.checked)},
    )
    await session.commit()
    return body.id, True

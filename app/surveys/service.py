"""Recording a survey with its areas (officers of its province, admins), audited."""

from __future__ import annotations

from typing import Any

import shapely
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from app.audit.service import record
from app.auth.caller import Caller
from app.auth.models import Role
from app.auth.scopes import require_province, require_role
from app.borders.service import border_id_of
from app.db import require_row
from app.errors import Conflict, InvalidInput
from app.geo.geometry import InvalidGeometry, parse_geometry
from app.incidents.location import from_location
from app.surveys.schemas import AreaIn, SurveyCreate


async def _area_rows(session: AsyncSession, border: str, area: AreaIn) -> list[dict[str, Any]]:
    """The rows of an area: placed by its location or polygon, or `count` unplaced."""
    if area.location and area.geometry:
        raise InvalidInput("an area has a location or a geometry, not both", field="location")
    if (area.location or area.geometry) and area.count != 1:
        raise InvalidInput("a placed area is one area (count 1)", field="count")
    wkt = ref = None
    if area.location:
        place = await from_location(session, area.location, border)
        wkt, ref = place.geom.wkt, place.location_ref
    elif area.geometry:
        try:
            wkt = shapely.to_wkt(parse_geometry(area.geometry, epsg=4326, max_vertices=10_000))
        except InvalidGeometry as exc:
            raise InvalidInput(exc.message, field="areas.geometry") from exc
    row = {"finding": area.finding.value, "ref": ref, "wkt": wkt, "views": area.views,
           "notes": area.notes, "illustrative": area.illustrative}  # fmt: skip
    return [row] * area.count


async def create_and_commit(session: AsyncSession, *, caller: Caller, body: SurveyCreate) -> int:
    require_role(caller, Role.officer)
    require_province(caller, body.province, what="the survey")
    if body.started_on and body.ended_on and body.ended_on < body.started_on:
        raise InvalidInput("ended_on is before started_on", field="ended_on")
    border_id = await border_id_of(session, body.border)
    await require_row(session, "documents", body.document_id, field="document_id")
    rows = [r for area in body.areas for r in await _area_rows(session, body.border, area)]
    try:
        async with session.begin_nested():
            survey_id = (
                await session.execute(
                    text(
                        """
                        INSERT INTO surveys (code, border_id, title, scope, led_by,
                            province_code, started_on, ended_on, document_id, section, notes,
                            created_by)
                        VALUES (:code, :border_id, :title, :scope, :led_by, :province, :start,
                            :end, :doc, :section, :notes, :by)
                        RETURNING id
                        """
                    ),
                    {
                        "code": body.code,
                        "border_id": border_id,
                        "title": body.title,
                        "scope": body.scope.value,
                        "led_by": body.led_by,
                        "province": body.province,
                        "start": body.started_on,
                        "end": body.ended_on,
                        "doc": body.document_id,
                        "section": body.section,
                        "notes": body.notes,
                        "by": caller.name,
                    },
                )
            ).scalar_one()
    except IntegrityError as exc:
        raise Conflict(f"a survey {body.code!r} is already recorded") from exc
    for row in rows:
        await session.execute(
            text(
                "INSERT INTO survey_areas (survey_id, finding, location_ref, geom, views, notes, "
                "illustrative) VALUES (:s, :finding, :ref, ST_GeomFromText(:wkt, 4326), :views, "
                ":notes, :illustrative)"
            ),
            {"s": survey_id, **row},
        )
    record(
        session,
        caller=caller,
        action="survey.create",
        entity_type="survey",
        entity_id=str(survey_id),
        detail={"code": body.code, "areas": len(rows)},
    )
    await session.commit()
    return int(survey_id)

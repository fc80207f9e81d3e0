"""Reads of surveys: a list with their areas counted by finding, and one survey with its
areas as GeoJSON (an area with no known place has no geometry)."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from app.chainage.near import NearStretch
from app.errors import NotFound
from app.geojson import COORD_DECIMALS
from app.sql import Sql

_SURVEY = """json_build_object('id', s.id, 'code', s.code, 'border', b.code, 'title', s.title,
  'scope', s.scope, 'led_by', s.led_by, 'province', s.province_code,
  'started_on', s.started_on, 'ended_on', s.ended_on,
  'document', (SELECT json_build_object('id', d.id, 'kind', d.kind, 'number', d.number,
                 'issued_on', d.issued_on) FROM documents d WHERE d.id = s.document_id),
  'section', s.section, 'notes', s.notes,
  'areas_by_finding', coalesce((SELECT json_object_agg(f.finding, f.n) FROM (
      SELECT a.finding, count(*) AS n FROM survey_areas a WHERE a.survey_id = s.id
      GROUP BY a.finding ORDER BY a.finding) f), '{}'::json))"""

_AREAS = f"""
SELECT coalesce(json_agg(json_build_object('type', 'Feature', 'id', a.id,
  'geometry', ST_AsGeoJSON(a.geom, {COORD_DECIMALS})::json,
  'properties', json_build_object('finding', a.finding, 'location', a.location_ref,
    'placed', a.geom IS NOT NULL, 'views', a.views, 'notes', a.notes,
    'illustrative', a.illustrative)) ORDER BY a.finding, a.id), '[]')::text
FROM survey_areas a WHERE a.survey_id = :id
"""  # noqa: S608


async def list_surveys(
    session: AsyncSession,
    *,
    province: str | None,
    border: str | None,
    year: int | None,
    near: NearStretch | None = None,
) -> list[Any]:
    """The surveys, and with `near` those with a placed area near that stretch."""
    nearby = Sql("TRUE", {"province": province, "border": border, "year": year})
    if near is not None:
        close = near.clause("a.geom")
        nearby = nearby.bind(**close.params) & Sql(
            f"EXISTS (SELECT 1 FROM survey_areas a WHERE a.survey_id = s.id AND {close.text})"  # noqa: S608
        )
    found = await session.execute(
        text(
            f"SELECT coalesce(json_agg(({_SURVEY}) ORDER BY s.started_on, s.code), '[]')::text "  # noqa: S608
            "FROM surveys s JOIN borders b ON b.id = s.border_id "
            "WHERE (CAST(:province AS text) IS NULL OR s.province_code = :province) "
            "AND (CAST(:border AS text) IS NULL OR b.code = upper(:border)) "
            "AND (CAST(:year AS int) IS NULL OR CAST(:year AS int) BETWEEN "
            "extract(year FROM coalesce(s.started_on, s.ended_on)) "
            "AND extract(year FROM coalesce(s.ended_on, s.started_on))) "
            f"AND {nearby.text}"
        ),
        nearby.params,
    )
    return list(json.loads(found.scalar_one()))


async def get_survey(session: AsyncSession, survey_id: int) -> dict[str, Any]:
    found = (
        await session.execute(
            text(
                f"SELECT ({_SURVEY})::text, ({_AREAS}) FROM surveys s "  # noqa: S608
                "JOIN borders b ON b.id = s.border_id WHERE s.id = :id"
            ),
            {"id": survey_id},
        )
    ).one_or_none()
    if found is None:
        raise NotFound(f"no survey {survey_id}")
    survey: dict[str, Any] = json.loads(found[0])
    survey["areas"] = {"type": "FeatureCollection", "features": json.loads(found[1])}
    return survey

"""SQL-first reads of segments as GeoJSON."""

from __future__ import annotations

from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from app.errors import NotFound
from app.geo.marker_codes import MarkerCode
from app.geojson import COORD_DECIMALS
from app.markers.queries import code_span
from app.paging import Page, fetch_page
from app.sql import Sql

SEGMENT_FEATURE = f"""
json_build_object(
  'type', 'Feature',
  'id', s.id,
  'geometry', ST_AsGeoJSON(s.geom, {COORD_DECIMALS})::json,
  'properties', json_build_object(
    'border', b.code, 'from', fm.code, 'to', tm.code, 'ref', fm.code || '-' || tm.code,
    'start_m', round(s.start_m::numeric, 1), 'end_m', round(s.end_m::numeric, 1),
    'length_m', round(s.length_m::numeric, 1), 'kind', s.kind,
    'sightline_width_m', coalesce(s.sightline_width_m, (
      SELECT z.distance_m FROM border_zones z
      WHERE z.border_id = s.border_id AND z.code = 'sightline_corridor')),
    'sightline_overridden', s.sightline_width_m IS NOT NULL
  )
)
"""  # noqa: S608


async def list_segments(
    session: AsyncSession,
    *,
    border: str | None,
    from_code: MarkerCode | None,
    to_code: MarkerCode | None,
    limit: int,
    after: list[Any] | None,
) -> Page:
    clauses = code_span("fm", "tm", border, from_code, to_code)
    if after is not None:
        keys = dict(zip(["k0", "k1", "k2"], after, strict=True))
        clauses.append(Sql("(b.code, fm.number, fm.aux_index) > (:k0, :k1, :k2)", keys))
    where = Sql.all(clauses)
    sql = f"""
    WITH page AS (
      SELECT {SEGMENT_FEATURE} AS feature,
             json_build_array(b.code, fm.number, fm.aux_index) AS sort_key,
             row_number() OVER (ORDER BY b.code, fm.number, fm.aux_index) AS rn
      FROM segments s
      JOIN borders b ON b.id = s.border_id
      JOIN markers fm ON fm.id = s.from_marker_id
      JOIN markers tm ON tm.id = s.to_marker_id
      WHERE {where.text}
      ORDER BY rn
      LIMIT :limit_plus_one
    )
    """  # noqa: S608
    return await fetch_page(session, sql, where.params, limit=limit)


async def segment_feature(session: AsyncSession, segment_id: int) -> str:
    found = (
        await session.execute(
            text(
                f"SELECT {SEGMENT_FEATURE}::text FROM segments s "  # noqa: S608
                "JOIN borders b ON b.id = s.border_id "
                "JOIN markers fm ON fm.id = s.from_marker_id "
                "JOIN markers tm ON tm.id = s.to_marker_id WHERE s.id = :id"
            ),
            {"id": segment_id},
        )
    ).scalar_one_or_none()
    if found is None:
        raise NotFound(f"no segment {segment_id}")
    return str(found)

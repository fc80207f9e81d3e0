"""SQL-first reads of segments as GeoJSON."""

from __future__ import annotations

from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from app.errors import InvalidInput, NotFound
from app.geo.marker_codes import MarkerCode
from app.geojson import COORD_DECIMALS
from app.paging import Page, fetch_page

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
    clauses: list[str] = []
    params: dict[str, Any] = {}
    if border is not None:
        clauses.append("b.code = :border")
        params["border"] = border.upper()
    if (from_code or to_code) and border is None:
        raise InvalidInput("from/to name markers of one border: give border too", field="border")
    if from_code is not None:
        clauses.append("(fm.number, fm.aux_index, fm.bank_index) >= (:fn, :fa, :fb)")
        params.update(fn=from_code.number, fa=from_code.aux, fb=from_code.bank)
    if to_code is not None:
        clauses.append("(tm.number, tm.aux_index, tm.bank_index) <= (:tn, :ta, :tb)")
        params.update(tn=to_code.number, ta=to_code.aux, tb=to_code.bank or 9)
    if after is not None:
        clauses.append("(b.code, fm.number, fm.aux_index) > (:k0, :k1, :k2)")
        params.update(k0=after[0], k1=after[1], k2=after[2])
    where = " AND ".join(clauses) or "TRUE"
    sql = f"""
    WITH page AS (
      SELECT {SEGMENT_FEATURE} AS feature,
             json_build_array(b.code, fm.number, fm.aux_index) AS sort_key,
             row_number() OVER (ORDER BY b.code, fm.number, fm.aux_index) AS rn
      FROM segments s
      JOIN borders b ON b.id = s.border_id
      JOIN markers fm ON fm.id = s.from_marker_id
      JOIN markers tm ON tm.id = s.to_marker_id
      WHERE {where}
      ORDER BY rn
      LIMIT :limit_plus_one
    )
    """  # noqa: S608
    return await fetch_page(session, sql, params, limit=limit)


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

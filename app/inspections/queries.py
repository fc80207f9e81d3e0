"""Reads of inspections and repairs as GeoJSON at their marker, and markers counted by
condition as of a day."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from app.geojson import COORD_DECIMALS
from app.sql import Sql

_DOCUMENT = """CASE WHEN d.id IS NOT NULL THEN json_build_object('id', d.id, 'kind', d.kind,
  'number', d.number, 'issued_on', d.issued_on) END"""

INSPECTION_FEATURE = f"""
json_build_object('type', 'Feature', 'id', x.id,
  'geometry', ST_AsGeoJSON(m.geom, {COORD_DECIMALS})::json,
  'properties', json_build_object('border', b.code, 'marker', m.code,
    'province', m.province_code, 'inspected_on', x.inspected_on, 'condition', x.condition,
    'unit', x.unit, 'inspectors', x.inspectors, 'joint', x.joint,
    'other_side_participants', x.other_side_participants, 'notes', x.notes,
    'document', (SELECT {_DOCUMENT} FROM documents d WHERE d.id = x.document_id),
    'section', x.section, 'illustrative', x.illustrative, 'recorded_by', x.recorded_by))
"""  # noqa: S608

REPAIR_FEATURE = f"""
json_build_object('type', 'Feature', 'id', r.id,
  'geometry', ST_AsGeoJSON(m.geom, {COORD_DECIMALS})::json,
  'properties', json_build_object('border', b.code, 'marker', m.code,
    'province', m.province_code, 'kind', r.kind, 'side', r.side, 'status', r.status,
    'planned_on', r.planned_on, 'done_on', r.done_on, 'incident_id', r.incident_id,
    'notes', r.notes,
    'document', (SELECT {_DOCUMENT} FROM documents d WHERE d.id = r.document_id),
    'section', r.section, 'illustrative', r.illustrative, 'version', r.version))
"""  # noqa: S608


@dataclass(frozen=True)
class RecordFilter:
    border: str | None = None
    marker: str | None = None  # its code, exactly as the register writes it
    province: str | None = None
    year: int | None = None  # inspected in, or repaired (done, else planned) in


def _where(f: RecordFilter, day: str) -> Sql:
    clauses: list[Sql] = []
    if f.border:
        clauses.append(Sql("b.code = :border", {"border": f.border.upper()}))
    if f.marker:
        clauses.append(Sql("m.code = :marker", {"marker": f.marker}))
    if f.province:
        clauses.append(Sql("m.province_code = :province", {"province": f.province}))
    if f.year is not None:
        clauses.append(Sql(f"extract(year FROM {day})::int = :year", {"year": f.year}))
    return Sql.all(clauses)


async def _collection(session: AsyncSession, feature: str, source: str, where: Sql,
                      order: str) -> dict[str, Any]:  # fmt: skip
    sql = (
        f"SELECT coalesce(json_agg(({feature}) ORDER BY {order}), '[]')::text "  # noqa: S608
        f"FROM {source} JOIN markers m ON m.id = {source.split()[1]}.marker_id "
        f"JOIN borders b ON b.id = m.border_id WHERE {where.text}"
    )
    features = (await session.execute(text(sql), where.params)).scalar_one()
    return {"type": "FeatureCollection", "features": json.loads(features)}


async def list_inspections(session: AsyncSession, f: RecordFilter) -> dict[str, Any]:
    where = _where(f, "x.inspected_on")
    return await _collection(
        session, INSPECTION_FEATURE, "marker_inspections x", where,
        "b.code, m.number, m.aux_index, m.bank_index, x.inspected_on, x.recorded_at",
    )  # fmt: skip


async def list_repairs(session: AsyncSession, f: RecordFilter) -> dict[str, Any]:
    where = _where(f, "coalesce(r.done_on, r.planned_on)")
    return await _collection(
        session, REPAIR_FEATURE, "marker_repairs r", where,
        "coalesce(r.done_on, r.planned_on), b.code, m.number",
    )  # fmt: skip


async def conditions_on(
    session: AsyncSession, *, on: date, province: str | None, border: str | None
) -> dict[str, Any]:
    """Markers by condition as of `on`: each marker's latest inspection by then, or, never
    inspected by then, counted apart (`not_inspected`)."""
    params: dict[str, Any] = {"on": on, "province": province, "border": border}
    rows = await session.execute(
        text(
            """
            SELECT coalesce(last.condition, 'not_inspected') AS condition, count(*) AS markers
            FROM markers m JOIN borders b ON b.id = m.border_id
            LEFT JOIN LATERAL (
              SELECT x.condition FROM marker_inspections x
              WHERE x.marker_id = m.id AND x.inspected_on <= :on
              ORDER BY x.inspected_on DESC, x.recorded_at DESC LIMIT 1) last ON TRUE
            WHERE (CAST(:province AS text) IS NULL OR m.province_code = :province)
              AND (CAST(:border AS text) IS NULL OR b.code = upper(:border))
            GROUP BY 1 ORDER BY 1
            """
        ),
        params,
    )
    return {
        "on": on.isoformat(),
        "province": province,
        "border": border.upper() if border else None,
        "by_condition": {r.condition: int(r.markers) for r in rows},
    }

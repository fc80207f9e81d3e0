"""Reads of crossings as GeoJSON, with their status on any day."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.caller import Caller
from app.auth.scopes import read_scope
from app.chainage.near import NearStretch
from app.crossings.models import OPEN_STATES
from app.errors import NotFound
from app.geojson import COORD_DECIMALS
from app.sql import Sql

# A crossing's status on a day: its latest change effective by then (none before its first).
STATUS_ON = """(SELECT h.status FROM crossing_status_changes h
  WHERE h.crossing_id = c.id AND h.effective_on <= CAST(:on AS date)
  ORDER BY h.effective_on DESC, h.id DESC LIMIT 1)"""

# The statuses that count as open, as SQL literals (CrossingStatus values, from the code).
OPEN_STATES_SQL = ", ".join(f"'{s.value}'" for s in sorted(OPEN_STATES))

CROSSING_FEATURE = f"""
json_build_object('type', 'Feature', 'id', c.id,
  'geometry', ST_AsGeoJSON(c.geom, {COORD_DECIMALS})::json,
  'properties', json_build_object('code', c.code, 'border', b.code,
    'name', c.name_vn || coalesce(' – ' || c.name_other, ''), 'name_vn', c.name_vn,
    'name_other', c.name_other, 'level', c.level, 'serves', c.serves,
    'part_of', (SELECT p.code FROM crossings p WHERE p.id = c.parent_id),
    'location', c.location_ref, 'place_illustrative', c.place_illustrative,
    'province', c.province_code, 'other_side_unit', c.other_side_unit, 'status', c.status,
    'status_since', (SELECT max(h.effective_on) FROM crossing_status_changes h
                     WHERE h.crossing_id = c.id AND h.status = c.status),
    'note', c.note, 'version', c.version))
"""  # noqa: S608

_HISTORY = """
SELECT coalesce(json_agg(json_build_object('status', h.status, 'level', h.level,
  'effective_on', h.effective_on, 'dated_by', h.dated_by, 'reason', h.reason,
  'document', CASE WHEN d.id IS NOT NULL THEN json_build_object('id', d.id, 'kind', d.kind,
    'number', d.number, 'issued_on', d.issued_on, 'subject', d.subject) END,
  'section', h.section,
  'recorded_by', h.recorded_by, 'recorded_at', h.recorded_at)
  ORDER BY h.effective_on, h.id), '[]')::text
FROM crossing_status_changes h LEFT JOIN documents d ON d.id = h.document_id
WHERE h.crossing_id = :id
"""

_LINKS = """
SELECT coalesce(json_agg(json_build_object('type', l.entity_type, 'id', l.entity_id,
  'title', coalesce(i.title, w.range_ref || ' ' || w.kind, r.work_title),
  'href', CASE l.entity_type WHEN 'incident' THEN '/api/v1/incidents/'
               WHEN 'clearing_work' THEN '/api/v1/clearing-works/'
               ELSE '/api/v1/approvals/' END || l.entity_id)
  ORDER BY l.entity_type, l.linked_at), '[]')::text
FROM crossing_links l
LEFT JOIN incidents i ON l.entity_type = 'incident' AND i.id::text = l.entity_id
LEFT JOIN clearing_works w ON l.entity_type = 'clearing_work' AND w.id::text = l.entity_id
LEFT JOIN approval_requests r ON l.entity_type = 'approval' AND r.id::text = l.entity_id
WHERE l.crossing_id = :id
  -- Incidents and requests of a province its officers and reporters alone read.
  AND (l.entity_type = 'clearing_work' OR CAST(:scope AS text) IS NULL
       OR coalesce(i.province_code, r.province_code) = :scope)
"""


@dataclass(frozen=True)
class CrossingFilter:
    border: str | None = None
    province: str | None = None
    levels: tuple[str, ...] = ()
    statuses: tuple[str, ...] = ()
    open_on: date | None = None  # only those open that day
    near: NearStretch | None = None  # only those near this stretch


def where_clause(f: CrossingFilter) -> Sql:
    """Crossings are the line's register, as markers are: every token reads them all."""
    clauses: list[Sql] = []
    if f.border:
        clauses.append(Sql("b.code = :border", {"border": f.border.upper()}))
    if f.province:
        clauses.append(Sql("c.province_code = :province", {"province": f.province}))
    if f.levels:
        clauses.append(Sql("c.level = ANY(:levels)", {"levels": list(f.levels)}))
    if f.statuses:
        clauses.append(Sql("c.status = ANY(:statuses)", {"statuses": list(f.statuses)}))
    if f.near:
        clauses.append(f.near.clause("c.geom"))
    if f.open_on:
        clauses.append(Sql(f"{STATUS_ON} IN ({OPEN_STATES_SQL})", {"on": f.open_on}))
    return Sql.all(clauses)


async def list_crossings(session: AsyncSession, f: CrossingFilter) -> dict[str, Any]:
    """A FeatureCollection in border and chainage order; with `open_on`, each feature also
    says its status that day (`status_on`)."""
    where = where_clause(f).bind(on=f.open_on)
    feature = CROSSING_FEATURE
    if f.open_on:
        feature = (
            f"jsonb_set(({CROSSING_FEATURE})::jsonb, '{{properties,status_on}}', "
            f"to_jsonb({STATUS_ON}))"
        )
    sql = (
        f"SELECT coalesce(json_agg(({feature}) ORDER BY b.code, c.code), '[]')::text "  # noqa: S608
        f"FROM crossings c JOIN borders b ON b.id = c.border_id WHERE {where.text}"
    )
    features = (await session.execute(text(sql), where.params)).scalar_one()
    return {"type": "FeatureCollection", "features": json.loads(features)}


async def get_crossing(session: AsyncSession, crossing_id: int, *, caller: Caller) -> Any:
    """One crossing with its status history and what concerns it (of that, what the
    caller may read: another province's incidents and requests are left out)."""
    params: dict[str, Any] = {"id": crossing_id, "scope": read_scope(caller)}
    found = (
        await session.execute(
            text(
                f"SELECT ({CROSSING_FEATURE})::text, ({_HISTORY}), ({_LINKS}) "  # noqa: S608
                f"FROM crossings c JOIN borders b ON b.id = c.border_id "
                "WHERE c.id = :id"
            ),
            params,
        )
    ).one_or_none()
    if found is None:
        raise NotFound(f"no crossing {crossing_id}")
    feature = json.loads(found[0])
    feature["properties"]["history"] = json.loads(found[1])
    feature["properties"]["concerns"] = json.loads(found[2])
    return feature

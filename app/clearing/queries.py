"""SQL-first reads: clearing works with progress, and the line's clearing status by segment."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from app.db import plain_row
from app.errors import NotFound
from app.geojson import COORD_DECIMALS
from app.paging import Page, fetch_page
from app.sql import Sql

# Union of intervals by PostgreSQL multiranges: overlapping completions count once.
_COMPLETED_M = """
(SELECT coalesce(sum(upper(r) - lower(r)), 0)::float8 FROM unnest((
   SELECT range_agg(numrange(c.start_m::numeric, c.end_m::numeric))
   FROM clearing_completions c WHERE c.work_id = w.id)) r)
"""

WORK_FEATURE = f"""
json_build_object(
  'type', 'Feature', 'id', w.id,
  'geometry', ST_AsGeoJSON(w.geom, {COORD_DECIMALS})::json,
  'properties', json_build_object(
    'border', b.code, 'range', w.range_ref, 'kind', w.kind, 'party', w.party,
    'approval', json_build_object('body', w.approval_body, 'ref', w.approval_ref,
                                  'year', w.approval_year),
    'planned_start', w.planned_start, 'planned_end', w.planned_end,
    'actual_start', w.actual_start, 'actual_end', w.actual_end, 'status', w.status,
    'notes', w.notes, 'length_m', round(w.length_m::numeric, 1),
    'start_m', round(w.start_m::numeric, 1), 'end_m', round(w.end_m::numeric, 1),
    'districts', w.districts, 'communes', w.communes, 'provinces', w.province_codes,
    'completed_m', round({_COMPLETED_M}::numeric, 1),
    'progress', round(({_COMPLETED_M} / nullif(w.end_m - w.start_m, 0))::numeric, 4),
    'completions', coalesce((SELECT json_agg(json_build_object(
        'start_m', round(c.start_m::numeric, 1), 'end_m', round(c.end_m::numeric, 1),
        'completed_on', c.completed_on, 'note', c.note) ORDER BY c.start_m, c.id)
      FROM clearing_completions c WHERE c.work_id = w.id), '[]'::json),
    'incident_ids', coalesce((SELECT json_agg(ci.incident_id ORDER BY ci.incident_id)
      FROM clearing_work_incidents ci WHERE ci.work_id = w.id), '[]'::json),
    'version', w.version, 'created_at', w.created_at, 'updated_at', w.updated_at
  )
)
"""  # noqa: S608


@dataclass
class WorkFilter:
    border: str | None = None
    kinds: list[str] = field(default_factory=list)
    statuses: list[str] = field(default_factory=list)
    province: str | None = None
    year: int | None = None
    # A stretch of the line (border, start_m, end_m): works overlapping it, or passing
    # within `within_m` of its ends along the line.
    stretch: tuple[str, float, float] | None = None
    within_m: float = 0.0


async def list_works(
    session: AsyncSession, f: WorkFilter, *, limit: int, after: list[Any] | None
) -> Page:
    clauses: list[Sql] = []
    if f.border:
        clauses.append(Sql("b.code = :border", {"border": f.border.upper()}))
    if f.kinds:
        clauses.append(Sql("w.kind = ANY(:kinds)", {"kinds": f.kinds}))
    if f.statuses:
        clauses.append(Sql("w.status = ANY(:statuses)", {"statuses": f.statuses}))
    if f.province:
        clauses.append(Sql("w.province_codes ? :province", {"province": f.province}))
    if f.year is not None:
        started = "coalesce(w.actual_start, w.planned_start)"
        clauses.append(
            Sql(
                f"coalesce(extract(year FROM {started})::int, w.approval_year) = :year",
                {"year": f.year},
            )
        )
    if f.stretch is not None:
        border, start_m, end_m = f.stretch
        clauses.append(
            Sql(
                "b.code = :stretch_border "
                "AND w.start_m <= CAST(:stretch_end AS float8) + CAST(:within_m AS float8) "
                "AND w.end_m >= CAST(:stretch_start AS float8) - CAST(:within_m AS float8)",
                {
                    "stretch_border": border,
                    "stretch_start": start_m,
                    "stretch_end": end_m,
                    "within_m": f.within_m,
                },
            )
        )
    if after is not None:
        keys = dict(zip(["k0", "k1", "k2"], after, strict=True))
        clauses.append(Sql("(b.code, w.start_m, w.id) > (:k0, :k1, CAST(:k2 AS uuid))", keys))
    where = Sql.all(clauses)
    sql = f"""
    WITH page AS (
      SELECT {WORK_FEATURE} AS feature, json_build_array(b.code, w.start_m, w.id) AS sort_key,
             row_number() OVER (ORDER BY b.code, w.start_m, w.id) AS rn
      FROM clearing_works w JOIN borders b ON b.id = w.border_id
      WHERE {where.text}
      ORDER BY rn LIMIT :limit_plus_one
    )
    """  # noqa: S608
    return await fetch_page(session, sql, where.params, limit=limit)


async def work_feature(session: AsyncSession, work_id: uuid.UUID) -> tuple[str, int]:
    row = (
        await session.execute(
            text(
                f"SELECT {WORK_FEATURE}::text, w.version FROM clearing_works w "  # noqa: S608
                "JOIN borders b ON b.id = w.border_id WHERE w.id = :id"
            ),
            {"id": work_id},
        )
    ).one_or_none()
    if row is None:
        raise NotFound(f"no clearing work {work_id}")
    return str(row[0]), int(row[1])


async def clearing_status(
    session: AsyncSession,
    *,
    border_id: int,
    cutoff: date,
    today: date,
    min_share: float,
    stale_only: bool,
) -> tuple[str, int]:
    """Per segment of a border: when clearing of any kind last covered part of it, and how
    much of it (by length) completed clearing covers since `cutoff`."""
    sql = f"""
    WITH seg AS (
      SELECT s.*, fm.code AS from_code, tm.code AS to_code
      FROM segments s JOIN markers fm ON fm.id = s.from_marker_id
      JOIN markers tm ON tm.id = s.to_marker_id
      WHERE s.border_id = :b
    ), cleared AS (
      SELECT c.* FROM clearing_completions c
      JOIN clearing_works w ON w.id = c.work_id
      JOIN clearing_work_kinds k ON k.code = w.kind AND k.is_clearing
      WHERE c.border_id = :b AND w.status <> 'cancelled'
    ), status AS (
      SELECT s.*,
        (SELECT max(c.completed_on) FROM cleared c
         WHERE c.start_m < s.end_m AND c.end_m > s.start_m) AS last_cleared_on,
        (SELECT coalesce(sum(upper(r) - lower(r)), 0)::float8 FROM unnest((
           SELECT range_agg(numrange(greatest(c.start_m, s.start_m)::numeric,
                                     least(c.end_m, s.end_m)::numeric))
           FROM cleared c
           WHERE c.start_m < s.end_m AND c.end_m > s.start_m AND c.completed_on >= :cutoff)) r)
          AS cleared_m
      FROM seg s
    )
    SELECT coalesce(json_agg(json_build_object(
      'type', 'Feature', 'id', st.id,
      'geometry', ST_AsGeoJSON(st.geom, {COORD_DECIMALS})::json,
      'properties', json_build_object(
        'ref', st.from_code || '-' || st.to_code, 'from', st.from_code, 'to', st.to_code,
        'length_m', round(st.length_m::numeric, 1), 'last_cleared_on', st.last_cleared_on,
        'days_since_cleared', :today - st.last_cleared_on,
        'cleared_m_in_period', round(st.cleared_m::numeric, 1),
        'cleared_share', round((st.cleared_m / nullif(st.end_m - st.start_m, 0))::numeric, 4),
        'cleared_within_period', st.cleared_m / nullif(st.end_m - st.start_m, 0) >= :min_share
      )) ORDER BY st.start_m), '[]')::text, count(*)
    FROM status st
    WHERE NOT :stale_only
       OR coalesce(st.cleared_m / nullif(st.end_m - st.start_m, 0), 0) < :min_share
    """  # noqa: S608
    row = (
        await session.execute(
            text(sql),
            {
                "b": border_id,
                "cutoff": cutoff,
                "today": today,
                "min_share": min_share,
                "stale_only": stale_only,
            },
        )
    ).one()
    return str(row[0]), int(row[1])


async def work_approvals(
    session: AsyncSession, work_id: uuid.UUID, *, scope: str | None
) -> list[dict[str, Any]]:
    """The approval procedures of a work (app/approvals records them), as the work's
    detail lists them; `scope` as auth.scopes.read_scope. Read here, not through that
    package: clearing sits below it in the layering."""
    rows = await session.execute(
        text(
            """
            SELECT r.id, r.requested_by_side, r.requester, r.work_title, r.status,
                   (SELECT min(s.happened_on) FROM approval_stages s
                    WHERE s.request_id = r.id) AS submitted_on
            FROM approval_requests r
            WHERE r.work_id = :w
              AND (CAST(:scope AS text) IS NULL OR r.province_code = :scope)
            ORDER BY submitted_on, r.id
            """
        ),
        {"w": work_id, "scope": scope},
    )
    return [{**plain_row(r._mapping), "href": f"/api/v1/approvals/{r.id}"} for r in rows]

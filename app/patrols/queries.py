"""Reads of patrols: as GeoJSON routes, summed per unit and month, and the stretches of the
line no patrol has walked for N days. Officers and reporters read their province's."""

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
from app.geojson import COORD_DECIMALS
from app.sql import Sql
from app.timestamps import LOCAL_TIME_ZONE

# A segment counts as walked by a patrol whose route passes this close to it.
WALKED_WITHIN_M = 200.0

PATROL_FEATURE = f"""
json_build_object('type', 'Feature', 'id', p.id,
  'geometry', ST_AsGeoJSON(p.geom, {COORD_DECIMALS})::json,
  'properties', json_build_object('unit', p.unit, 'station', p.station_code,
    'province', p.province_code,
    'border', b.code, 'started_at', p.started_at, 'ended_at', p.ended_at,
    'route', p.route_ref, 'length_km', round((p.length_m / 1000)::numeric, 3),
    'markers_checked', (SELECT count(*) FROM marker_inspections x WHERE x.patrol_id = p.id),
    'incident_ids', coalesce((SELECT json_agg(pi.incident_id ORDER BY pi.incident_id)
                              FROM patrol_incidents pi WHERE pi.patrol_id = p.id), '[]'::json),
    'notes', p.notes, 'illustrative', p.illustrative))
"""  # noqa: S608


def visibility(caller: Caller) -> Sql:
    return Sql(
        "(CAST(:scope AS text) IS NULL OR p.province_code = :scope)", {"scope": read_scope(caller)}
    )


@dataclass(frozen=True)
class PatrolFilter:
    province: str | None = None
    unit: str | None = None
    since: date | None = None
    until: date | None = None
    near: NearStretch | None = None  # only routes near this stretch


def _where(f: PatrolFilter, caller: Caller) -> Sql:
    clauses = [visibility(caller)]
    local_day = f"(p.started_at AT TIME ZONE '{LOCAL_TIME_ZONE}')::date"
    if f.province:
        clauses.append(Sql("p.province_code = :province", {"province": f.province}))
    if f.unit:
        clauses.append(Sql("p.unit = :unit", {"unit": f.unit}))
    if f.since:
        clauses.append(Sql(f"{local_day} >= :since", {"since": f.since}))
    if f.until:
        clauses.append(Sql(f"{local_day} <= :until", {"until": f.until}))
    if f.near:
        clauses.append(f.near.clause("p.geom"))
    return Sql.all(clauses)


async def list_patrols(session: AsyncSession, f: PatrolFilter, *, caller: Caller) -> dict[str, Any]:
    where = _where(f, caller)
    found = await session.execute(
        text(
            f"SELECT coalesce(json_agg(({PATROL_FEATURE}) ORDER BY p.started_at, p.id), "  # noqa: S608
            f"'[]')::text FROM patrols p JOIN borders b ON b.id = p.border_id WHERE {where.text}"
        ),
        where.params,
    )
    return {"type": "FeatureCollection", "features": json.loads(found.scalar_one())}


async def by_unit_and_month(
    session: AsyncSession, f: PatrolFilter, *, caller: Caller
) -> list[dict[str, Any]]:
    """Patrols, kilometres walked and markers checked, per unit and local month."""
    where = _where(f, caller)
    rows = await session.execute(
        text(
            f"""
            SELECT p.unit, p.province_code AS province,
                   to_char(p.started_at AT TIME ZONE '{LOCAL_TIME_ZONE}', 'YYYY-MM') AS month,
                   count(*) AS patrols, round((sum(p.length_m) / 1000)::numeric, 3) AS km,
                   (SELECT count(*) FROM marker_inspections x
                    WHERE x.patrol_id = ANY(array_agg(p.id))) AS markers_checked
            FROM patrols p WHERE {where.text}
            GROUP BY 1, 2, 3 ORDER BY 1, 3
            """  # noqa: S608
        ),
        where.params,
    )
    return [
        {**r._mapping, "km": float(r.km), "patrols": int(r.patrols),
         "markers_checked": int(r.markers_checked)}
        for r in rows
    ]  # fmt: skip


async def not_walked(
    session: AsyncSession, *, caller: Caller, province: str | None, days: int, on: date
) -> list[dict[str, Any]]:
    """The segments of the caller's province (or `province`) that no patrol ended within
    `days` before `on` has passed within WALKED_WITHIN_M of, with the last day one did."""
    scope = visibility(caller).bind(on=on, days=days, within=WALKED_WITHIN_M, province=province)
    rows = await session.execute(
        text(
            f"""
            SELECT s.id, b.code AS border, fm.code || '-' || tm.code AS ref,
                   round(s.length_m::numeric, 1)::float8 AS length_m, fm.province_code AS province,
                   (SELECT max((p.ended_at AT TIME ZONE '{LOCAL_TIME_ZONE}')::date)
                    FROM patrols p WHERE p.border_id = s.border_id AND {scope.text}
                      AND (p.ended_at AT TIME ZONE '{LOCAL_TIME_ZONE}')::date <= :on
                      AND ST_DWithin(p.geom::geography, s.geom::geography, :within)
                   ) AS last_walked_on
            FROM segments s JOIN borders b ON b.id = s.border_id
            JOIN markers fm ON fm.id = s.from_marker_id JOIN markers tm ON tm.id = s.to_marker_id
            WHERE fm.province_code IS NOT NULL
              AND (CAST(:province AS text) IS NULL OR fm.province_code = :province)
              AND (CAST(:scope AS text) IS NULL OR fm.province_code = :scope)
            ORDER BY b.code, s.start_m
            """  # noqa: S608
        ),
        scope.params,
    )
    out = []
    for r in rows:
        last = r.last_walked_on
        if last is None or (on - last).days > days:
            out.append({**r._mapping, "last_walked_on": last.isoformat() if last else None})
    return out

"""The records' share of the per-district summary: what inspections found, what patrols
walked, which gates were open, what surveys found and which disputed areas were
outstanding, each counted in the unit (district, else commune, else province) that the
one placement rule puts it in on its day."""

from __future__ import annotations

from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from app.areas.placement import UNIT_REACH_M, reporting_unit
from app.crossings.queries import OPEN_STATES_SQL, STATUS_ON
from app.reports.queries import ReportQuery, bounds
from app.timestamps import LOCAL_TIME_ZONE

_IN_SCOPE = """(CAST(:border AS text) IS NULL OR b.code = :border)
  AND (CAST(:province AS text) IS NULL OR {province} = :province)"""


async def _rows(session: AsyncSession, sql: str, q: ReportQuery) -> list[dict[str, Any]]:
    result = await session.execute(text(sql), {**bounds(q), "reach": UNIT_REACH_M})
    return [dict(r._mapping) for r in result]


async def inspections_by_condition(session: AsyncSession, q: ReportQuery) -> list[dict[str, Any]]:
    """Inspections in the period by the condition they found, in the marker's unit on the
    day of each."""
    unit = reporting_unit(geom="m.geom", day="x.inspected_on")
    sql = f"""
    SELECT {unit} AS unit, x.condition, count(*)::int AS inspections,
           count(*) FILTER (WHERE x.joint)::int AS joint
    FROM marker_inspections x JOIN markers m ON m.id = x.marker_id
    JOIN borders b ON b.id = m.border_id
    WHERE x.inspected_on BETWEEN :start AND :end
      AND {_IN_SCOPE.format(province="m.province_code")}
    GROUP BY 1, 2 ORDER BY 1, 2
    """  # noqa: S608
    return await _rows(session, sql, q)


async def patrols_walked(session: AsyncSession, q: ReportQuery) -> list[dict[str, Any]]:
    """Patrols that started in the period: how many, their kilometres and the markers they
    checked, in the unit their route lies in on their day."""
    day = f"(p.started_at AT TIME ZONE '{LOCAL_TIME_ZONE}')::date"
    unit = reporting_unit(geom="p.geom", day=day, gtype="GeometryType(p.geom)")
    sql = f"""
    SELECT {unit} AS unit, count(*)::int AS patrols,
           round((sum(p.length_m) / 1000)::numeric, 3)::float8 AS km,
           coalesce(sum((SELECT count(*) FROM marker_inspections x
                         WHERE x.patrol_id = p.id)), 0)::int AS markers_checked
    FROM patrols p JOIN borders b ON b.id = p.border_id
    WHERE {day} BETWEEN :start AND :end
      AND {_IN_SCOPE.format(province="p.province_code")}
    GROUP BY 1 ORDER BY 1
    """  # noqa: S608
    return await _rows(session, sql, q)


async def crossings_open(session: AsyncSession, q: ReportQuery) -> list[dict[str, Any]]:
    """Gates and crossings in the unit they stand in at the period's end: how many, how many
    open that day, and how many changed status in the period."""
    unit = reporting_unit(geom="c.geom", day="CAST(:end AS date)")
    sql = f"""
    SELECT {unit} AS unit, count(*)::int AS crossings,
           count(*) FILTER (WHERE {STATUS_ON.replace(":on", ":end")}
                            IN ({OPEN_STATES_SQL}))::int AS open_at_end,
           coalesce(sum((SELECT count(*) FROM crossing_status_changes h
                         WHERE h.crossing_id = c.id
                           AND h.effective_on BETWEEN :start AND :end)), 0)::int
             AS status_changes
    FROM crossings c JOIN borders b ON b.id = c.border_id
    WHERE {_IN_SCOPE.format(province="c.province_code")}
    GROUP BY 1 ORDER BY 1
    """  # noqa: S608
    return await _rows(session, sql, q)


async def survey_areas_by_finding(session: AsyncSession, q: ReportQuery) -> list[dict[str, Any]]:
    """Areas of the surveys under way in the period, by finding: a placed area in its unit
    at the survey's end, one the report only counts in the survey's province."""
    day = "coalesce(s.ended_on, s.started_on)"
    unit = reporting_unit(geom="a.geom", day=day, gtype="GeometryType(a.geom)")
    sql = f"""
    SELECT CASE WHEN a.geom IS NULL THEN s.province_code ELSE {unit} END AS unit,
           a.finding, count(*)::int AS areas, count(a.geom)::int AS placed
    FROM survey_areas a JOIN surveys s ON s.id = a.survey_id
    JOIN borders b ON b.id = s.border_id
    WHERE coalesce(s.started_on, s.ended_on) <= :end AND {day} >= :start
      AND {_IN_SCOPE.format(province="s.province_code")}
    GROUP BY 1, 2 ORDER BY 1, 2
    """  # noqa: S608
    return await _rows(session, sql, q)


async def disputed_areas_held(session: AsyncSession, q: ReportQuery) -> list[dict[str, Any]]:
    """Disputed areas outstanding at the period's end and settled in it, in the unit they lie
    in then (their province when the register holds no shape)."""
    unit = reporting_unit(geom="d.geom", day="CAST(:end AS date)", gtype="GeometryType(d.geom)")
    sql = f"""
    SELECT CASE WHEN d.geom IS NULL THEN d.province_code ELSE {unit} END AS unit,
           count(*) FILTER (WHERE d.settled_on IS NULL OR d.settled_on > :end)::int
             AS outstanding_at_end,
           count(*) FILTER (WHERE d.settled_on BETWEEN :start AND :end)::int AS settled
    FROM disputed_areas d JOIN borders b ON b.id = d.border_id
    WHERE (d.since IS NULL OR d.since <= :end)
      AND {_IN_SCOPE.format(province="d.province_code")}
    GROUP BY 1 ORDER BY 1
    """  # noqa: S608
    return await _rows(session, sql, q)

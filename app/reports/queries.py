"""The numbers of the per-district summary, one SQL aggregate per table.

A row's unit is the district valid on the event's day, or, for events after the district
level ended (1 Jul 2025), the commune, else the province. Periods are Vietnam calendar
days, inclusive.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from app.areas.placement import UNIT_REACH_M, unit_at
from app.timestamps import LOCAL_TIME_ZONE


@dataclass(frozen=True)
class ReportQuery:
    start: date
    end: date  # inclusive
    border: str | None
    province: str | None
    by_month: bool


def bounds(q: ReportQuery) -> dict[str, Any]:
    return {
        "start": q.start,
        "end": q.end,
        "border": q.border.upper() if q.border else None,
        "province": q.province,
    }


# The period's instants: its first day's start and its last day's end, in local time.
_PERIOD = f"""period AS (
  SELECT (CAST(:start AS date)::timestamp AT TIME ZONE '{LOCAL_TIME_ZONE}') AS s,
         ((CAST(:end AS date) + 1)::timestamp AT TIME ZONE '{LOCAL_TIME_ZONE}') AS e
)"""

# Incidents in scope, with their reporting unit and the period.
_INCIDENTS = f"""
WITH {_PERIOD}, inc AS (
  SELECT i.*, coalesce(i.district_code, i.commune_code, i.province_code, 'unassigned') AS unit,
         to_char(i.occurred_at AT TIME ZONE '{LOCAL_TIME_ZONE}', 'YYYY-MM') AS month
  FROM incidents i JOIN borders b ON b.id = i.border_id
  WHERE (CAST(:border AS text) IS NULL OR b.code = :border)
    AND (CAST(:province AS text) IS NULL OR i.province_code = :province)
)
"""  # noqa: S608

# The incident tallies in scope (models.py): counters plus the deltas not yet folded in.
_TALLIES = """
WITH tally AS (
  SELECT * FROM incident_tallies UNION ALL SELECT * FROM incident_tally_deltas
), t AS (
  SELECT tally.* FROM tally
  WHERE tally.grain = :grain
    AND (CAST(:border AS text) IS NULL
         OR tally.border_id = (SELECT b.id FROM borders b WHERE b.code = :border))
    AND (CAST(:province AS text) IS NULL OR tally.province_code = :province)
)
"""


async def _rows(session: AsyncSession, sql: str, params: dict[str, Any]) -> list[dict[str, Any]]:
    result = await session.execute(text(sql), params)
    return [dict(r._mapping) for r in result]


def months_between(start: date, end: date) -> list[str]:
    """The months from start's to end's, as YYYY-MM."""
    months, year, month = [], start.year, start.month
    while (year, month) <= (end.year, end.month):
        months.append(f"{year:04d}-{month:02d}")
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return months


def _first_of_next_month(day: date) -> date:
    return date(day.year + day.month // 12, day.month % 12 + 1, 1)


def whole_months(start: date, end: date) -> tuple[date, date] | None:
    """The calendar months lying wholly in [start, end], as [first day, day after); None
    when there is none."""
    first = start if start.day == 1 else _first_of_next_month(start)
    after = end + timedelta(days=1)
    after = after if after.day == 1 else after.replace(day=1)
    return (first, after) if first < after else None


@dataclass(frozen=True)
class Opened:
    """Incidents that occurred in the period, per unit (and month): in all, and per
    category, per current status and per zone reached."""

    total: list[dict[str, Any]]
    by_category: list[dict[str, Any]]
    by_status: list[dict[str, Any]]
    by_zone: list[dict[str, Any]]


async def _opened_in_months(
    session: AsyncSession, q: ReportQuery, months: tuple[date, date]
) -> list[dict[str, Any]]:
    """From the month tallies: per unit (and month), dimension and value."""
    month = ", to_char(t.day, 'YYYY-MM') AS month" if q.by_month else ""
    group = ", t.day" if q.by_month else ""
    sql = f"""{_TALLIES}
    SELECT t.unit{month}, t.dimension, t.value, sum(t.opened)::int AS count
    FROM t WHERE t.day >= :first AND t.day < :after
    GROUP BY t.unit{group}, t.dimension, t.value
    """  # noqa: S608
    params = {**bounds(q), "grain": "month", "first": months[0], "after": months[1]}
    return await _rows(session, sql, params)


async def _opened_on_days(
    session: AsyncSession, q: ReportQuery, first: date, last: date
) -> list[dict[str, Any]]:
    """From the incidents (a part of a month has no tally of its own): per unit (and
    month), category, status and zones."""
    month = ", inc.month" if q.by_month else ""
    sql = f"""{_INCIDENTS}
    SELECT inc.unit{month}, inc.category, inc.status, inc.zones, count(*)::int AS count
    FROM inc, period
    WHERE inc.occurred_at >= period.s AND inc.occurred_at < period.e
    GROUP BY inc.unit{month}, inc.category, inc.status, inc.zones
    """  # noqa: S608
    return await _rows(session, sql, {**bounds(q), "start": first, "end": last})


async def opened(session: AsyncSession, q: ReportQuery) -> Opened:
    """The period's whole months from the month tallies, its other days (a part month at
    either end) from the incidents (a few thousand groups at a million incidents, zones
    counted per group, not per incident); every incident has one category, so the
    categories' sum is the total."""
    keys = ["unit", "month"] if q.by_month else ["unit"]
    tallies: dict[str, Counter[tuple[Any, ...]]] = {
        "total": Counter(), "category": Counter(), "status": Counter(), "zone": Counter()
    }  # fmt: skip

    def add(row: dict[str, Any], dimension: str, value: Any) -> None:
        key = tuple(row[k] for k in keys)
        tallies[dimension][(*key, value)] += row["count"]
        if dimension == "category":
            tallies["total"][key] += row["count"]

    def add_days(rows: list[dict[str, Any]]) -> None:
        for row in rows:
            add(row, "category", row["category"])
            add(row, "status", row["status"])
            for zone in row["zones"] or []:
                add(row, "zone", zone)

    months = whole_months(q.start, q.end)
    if months is None:
        add_days(await _opened_on_days(session, q, q.start, q.end))
    else:
        for row in await _opened_in_months(session, q, months):
            add(row, row["dimension"], row["value"])
        if q.start < months[0]:
            add_days(await _opened_on_days(session, q, q.start, months[0] - timedelta(days=1)))
        if months[1] <= q.end:
            add_days(await _opened_on_days(session, q, months[1], q.end))

    def table(column: str | None) -> list[dict[str, Any]]:
        names = keys + ([column] if column else [])
        return [
            {**dict(zip(names, key, strict=True)), "count": count}
            for key, count in sorted(tallies[column or "total"].items())
            if count
        ]

    return Opened(table(None), table("category"), table("status"), table("zone"))


async def resolved(session: AsyncSession, q: ReportQuery) -> list[dict[str, Any]]:
    """Resolved in the period, with median and 90th percentile days from event to resolution.
    Read off the covering index of resolutions (ix_incidents_resolved); both percentiles
    from one sort, days as float8 (extract() gives numeric, slow per row), units grouped in
    byte order (a collation-aware sort of every resolution's unit cost as much again)."""
    month = (
        f", to_char(i.resolved_at AT TIME ZONE '{LOCAL_TIME_ZONE}', 'YYYY-MM') AS month"
        if q.by_month
        else ""
    )
    month_key = ", month" if q.by_month else ""  # grouped by, and answered
    sql = f"""
    WITH {_PERIOD}, stats AS (
      SELECT coalesce(i.district_code, i.commune_code, i.province_code, 'unassigned')
               COLLATE "C" AS unit{month},
        count(*)::int AS resolved,
        percentile_cont(ARRAY[0.5, 0.9]) WITHIN GROUP (
          ORDER BY date_part('epoch', i.resolved_at - i.occurred_at) / 86400) AS days
      FROM incidents i, period
      WHERE i.status = 'resolved' AND i.resolved_at >= period.s AND i.resolved_at < period.e
        AND (CAST(:border AS text) IS NULL
             OR i.border_id = (SELECT b.id FROM borders b WHERE b.code = :border))
        AND (CAST(:province AS text) IS NULL OR i.province_code = :province)
      GROUP BY 1{month_key}
    )
    SELECT unit::text AS unit{month_key}, resolved,
           round(days[1]::numeric, 1) AS median_days_to_resolve,
           round(days[2]::numeric, 1) AS p90_days_to_resolve
    FROM stats
    """  # noqa: S608
    return await _rows(session, sql, bounds(q))


async def open_at_end(session: AsyncSession, q: ReportQuery) -> list[dict[str, Any]]:
    """Open at the end of the period (or of each month): from the day tallies, everything
    that occurred up to then less everything closed up to then. An incident is open from
    its event until it was resolved, or dismissed (models.py)."""
    # By month, grouped by the month's first day (date_trunc), named YYYY-MM here: to_char
    # on every day row of every year cost a third of the query. For the period's end alone,
    # one sum per unit (every day row up to the end counts).
    first = "date_trunc('month', t.day)::date" if q.by_month else "CAST(:end AS date)"
    sql = f"""{_TALLIES}
    SELECT t.unit, {first} AS first, sum(t.opened - t.closed)::int AS net
    FROM t WHERE t.day <= :end
    GROUP BY t.unit{", 2" if q.by_month else ""} ORDER BY t.unit{", 2" if q.by_month else ""}
    """  # noqa: S608
    by_unit: dict[str, list[dict[str, Any]]] = {}
    for row in await _rows(session, sql, {**bounds(q), "grain": "day"}):
        row["month"] = f"{row['first']:%Y-%m}"
        by_unit.setdefault(row["unit"], []).append(row)
    months = months_between(q.start, q.end) if q.by_month else [f"{q.end:%Y-%m}"]
    out: list[dict[str, Any]] = []
    for unit, rows in by_unit.items():
        open_now, taken = 0, 0
        for month in months:  # the running sum at each month's end (months before count too)
            while taken < len(rows) and rows[taken]["month"] <= month:
                open_now += rows[taken]["net"]
                taken += 1
            if open_now:
                out.append({"unit": unit, "month": month, "open_at_end": open_now})
    return out


async def clearing_by_kind(session: AsyncSession, q: ReportQuery) -> list[dict[str, Any]]:
    """Kilometres of works planned to start in the period, and of completed parts dated in
    it, per unit and kind. A work's metres go to its districts by their share of its
    stretch; a work with no district (after the reform) to its communes, else its province."""
    sql = """
    WITH concerned AS (
      -- Only the works the period concerns (through the indexes on their start and on the
      -- completions' day), and only the columns read (not the stretch).
      SELECT w.id FROM clearing_works w
      WHERE coalesce(w.planned_start, w.actual_start) BETWEEN :start AND :end
      UNION
      SELECT c.work_id FROM clearing_completions c WHERE c.completed_on BETWEEN :start AND :end
    ), works AS MATERIALIZED (
      SELECT w.id, w.kind, w.length_m, w.planned_start, w.actual_start, w.districts,
             w.communes, w.province_codes
      FROM concerned JOIN clearing_works w ON w.id = concerned.id
      JOIN borders b ON b.id = w.border_id
      WHERE (CAST(:border AS text) IS NULL OR b.code = :border)
        AND (CAST(:province AS text) IS NULL OR w.province_codes ? :province)
        AND w.status <> 'cancelled'
    ), shares AS (
      -- By district while there were districts, else by commune, else the province.
      SELECT w.id, d->>'code' AS unit, (d->>'length_m')::float8 / nullif(w.length_m, 0) AS share
      FROM works w, jsonb_array_elements(CASE WHEN jsonb_array_length(w.districts) > 0
                                              THEN w.districts ELSE w.communes END) d
      UNION ALL
      SELECT w.id, coalesce(w.province_codes->>0, 'unassigned'), 1.0
      FROM works w
      WHERE jsonb_array_length(w.districts) = 0 AND jsonb_array_length(w.communes) = 0
    ), planned AS (
      SELECT s.unit, w.kind, sum(w.length_m * s.share) / 1000 AS km
      FROM works w JOIN shares s ON s.id = w.id
      WHERE coalesce(w.planned_start, w.actual_start) BETWEEN :start AND :end
      GROUP BY s.unit, w.kind
    ), completed AS (
      SELECT s.unit, w.kind, sum((c.end_m - c.start_m) * s.share) / 1000 AS km
      FROM clearing_completions c JOIN works w ON w.id = c.work_id JOIN shares s ON s.id = w.id
      WHERE c.completed_on BETWEEN :start AND :end
      GROUP BY s.unit, w.kind
    )
    SELECT coalesce(p.unit, c.unit) AS unit, coalesce(p.kind, c.kind) AS kind,
           round(coalesce(p.km, 0)::numeric, 3) AS planned_km,
           round(coalesce(c.km, 0)::numeric, 3) AS completed_km
    FROM planned p FULL JOIN completed c ON c.unit = p.unit AND c.kind = p.kind
    ORDER BY 1, 2
    """
    return await _rows(session, sql, bounds(q))


async def markers_by_condition(session: AsyncSession, q: ReportQuery) -> list[dict[str, Any]]:
    """Markers by their present condition, in the district (valid on the period's last day)
    they stand in by the one placement rule, else their province; a marker with no
    province (none within reach when it was placed) is unassigned."""
    sql = f"""
    SELECT CASE WHEN m.province_code IS NULL THEN 'unassigned'
                ELSE coalesce({unit_at("district", geom="m.geom", day="CAST(:end AS date)")},
                              m.province_code) END AS unit,
           m.condition, count(*)::int AS count
    FROM markers m JOIN borders b ON b.id = m.border_id
    WHERE (CAST(:border AS text) IS NULL OR b.code = :border)
      AND (CAST(:province AS text) IS NULL OR m.province_code = :province)
    GROUP BY 1, 2 ORDER BY 1, 2
    """  # noqa: S608
    return await _rows(session, sql, {**bounds(q), "reach": UNIT_REACH_M})


async def units(session: AsyncSession, q: ReportQuery, seen: set[str]) -> list[dict[str, Any]]:
    """The reporting units: the districts valid in the period (along the border, in the
    province), and any other unit the numbers name (provinces after the reform)."""
    sql = """
    SELECT DISTINCT ON (u.code) u.code AS unit, u.level, u.name_vi AS name,
           coalesce(u.parent_code, u.code) AS province
    FROM admin_units u
    WHERE ((u.level = 'district' AND u.valid_from <= :end
            AND (u.valid_to IS NULL OR u.valid_to > :start)
            AND (CAST(:province AS text) IS NULL OR u.parent_code = :province)
            AND (CAST(:border AS text) IS NULL OR EXISTS (
                 SELECT 1 FROM border_parts bp JOIN borders b ON b.id = bp.border_id
                 WHERE b.code = :border
                   AND ST_DWithin(bp.geom::geography, u.geom::geography, 1000))))
           OR u.code = ANY(:seen))
    ORDER BY u.code, u.valid_from DESC
    """
    rows = await _rows(session, sql, {**bounds(q), "seen": sorted(seen)})
    known = {r["unit"] for r in rows}
    rows += [
        {"unit": code, "level": None, "name": code, "province": None}
        for code in sorted(seen - known)
    ]
    return sorted(rows, key=lambda r: (str(r["province"]), str(r["unit"])))

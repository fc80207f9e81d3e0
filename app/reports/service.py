"""Assemble the per-district summary from its tables."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.errors import InvalidInput
from app.reports import queries, records
from app.reports.queries import ReportQuery

MAX_PERIOD_DAYS = 366 * 20


@dataclass(frozen=True)
class Table:
    name: str
    columns: list[str]
    rows: list[dict[str, Any]]


async def district_report(
    session: AsyncSession, q: ReportQuery
) -> tuple[list[dict[str, Any]], list[Table]]:
    if q.end < q.start:
        raise InvalidInput("to comes before from", field="to")
    if (q.end - q.start).days > MAX_PERIOD_DAYS:
        raise InvalidInput("a report covers at most 20 years", field="to")
    key_cols = ["unit", "month"] if q.by_month else ["unit"]
    counts = await queries.opened(session, q)
    opened, by_category, by_status, by_zone = (
        counts.total, counts.by_category, counts.by_status, counts.by_zone
    )  # fmt: skip
    resolved = await queries.resolved(session, q)
    open_end = await queries.open_at_end(session, q)
    clearing = await queries.clearing_by_kind(session, q)
    markers = await queries.markers_by_condition(session, q)
    inspections = await records.inspections_by_condition(session, q)
    patrols = await records.patrols_walked(session, q)
    crossings = await records.crossings_open(session, q)
    surveyed = await records.survey_areas_by_finding(session, q)
    disputed = await records.disputed_areas_held(session, q)

    shares = (opened, resolved, open_end, clearing, markers, inspections, patrols, crossings,
              surveyed, disputed)  # fmt: skip
    seen = {r["unit"] for t in shares for r in t}
    unit_rows = await queries.units(session, q, seen)
    names = {u["unit"]: u for u in unit_rows}

    def key(row: dict[str, Any]) -> tuple[Any, ...]:
        return tuple(row.get(c) for c in key_cols)

    summary: dict[tuple[Any, ...], dict[str, Any]] = {}
    months = queries.months_between(q.start, q.end) if q.by_month else [None]
    for unit in names:
        for month in months:
            k = (unit, month) if q.by_month else (unit,)
            summary[k] = {
                "unit": unit,
                **({"month": month} if q.by_month else {}),
                "unit_name": names[unit]["name"],
                "level": names[unit]["level"],
                "province": names[unit]["province"],
                "opened": 0,
                "resolved": 0,
                "open_at_end": 0,
                "median_days_to_resolve": None,
                "p90_days_to_resolve": None,
            }
    for rows, fields in (
        (opened, {"count": "opened"}),
        (
            resolved,
            {
                "resolved": "resolved",
                "median_days_to_resolve": "median_days_to_resolve",
                "p90_days_to_resolve": "p90_days_to_resolve",
            },
        ),
        (open_end, {"open_at_end": "open_at_end"}),
    ):
        for row in rows:
            target = summary.get(key(row))
            if target is None:  # a month outside the period (resolved-month keys) or unit gone
                continue
            for source, dest in fields.items():
                value = row[source]
                target[dest] = (
                    float(value)
                    if hasattr(value, "as_integer_ratio") and not isinstance(value, int)
                    else value
                )

    def named(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return [{**r, "unit_name": names.get(r["unit"], {}).get("name", r["unit"])} for r in rows]

    month_col = ["month"] if q.by_month else []
    tables = [
        Table(
            "summary",
            [
                "unit",
                *month_col,
                "unit_name",
                "level",
                "province",
                "opened",
                "resolved",
                "open_at_end",
                "median_days_to_resolve",
                "p90_days_to_resolve",
            ],
            list(summary.values()),
        ),
        Table(
            "incidents_by_category",
            ["unit", *month_col, "unit_name", "category", "count"],
            named(by_category),
        ),
        Table(
            "incidents_by_status",
            ["unit", *month_col, "unit_name", "status", "count"],
            named(by_status),
        ),
        Table(
            "incidents_by_zone", ["unit", *month_col, "unit_name", "zone", "count"], named(by_zone)
        ),
        Table(
            "clearing_by_kind",
            ["unit", "unit_name", "kind", "planned_km", "completed_km"],
            [
                {
                    **r,
                    "planned_km": float(r["planned_km"]),
                    "completed_km": float(r["completed_km"]),
                }
                for r in named(clearing)
            ],
        ),
        Table("markers_by_condition", ["unit", "unit_name", "condition", "count"], named(markers)),
        Table(
            "inspections_by_condition",
            ["unit", "unit_name", "condition", "inspections", "joint"],
            named(inspections),
        ),
        Table("patrols", ["unit", "unit_name", "patrols", "km", "markers_checked"], named(patrols)),
        Table(
            "crossings",
            ["unit", "unit_name", "crossings", "open_at_end", "status_changes"],
            named(crossings),
        ),
        Table(
            "survey_areas",
            ["unit", "unit_name", "finding", "areas", "placed"],
            named(surveyed),
        ),
        Table(
            "disputed_areas",
            ["unit", "unit_name", "outstanding_at_end", "settled"],
            named(disputed),
        ),
    ]
    return unit_rows, tables

"""Incident tallies: the counts the per-district summary reads instead of scanning every
incident (at a million incidents, "open at the end of the year" alone read 834,000 index
entries). Kept by triggers on `incidents` (migration 9f4b2d7e6a13), never by the service.

Two grains in one table:
- `day`: per local day and unit, how many incidents occurred (`opened`) and how many were
  closed (`closed`: resolved, or dismissed, on that day; never before the event). Open at
  the end of a day is the sum of `opened - closed` up to it.
- `month`: per local month and unit, how many incidents occurred (`opened`) per category,
  per current status and per zone reached (`dimension`, `value`): the breakdowns of a
  period's whole months. One row per value, not per combination: a year is a few thousand
  rows at a million incidents, not twenty thousand.

Writes add rows to `incident_tally_deltas` only (insert-only: concurrent writers never wait
on one another's counters); one compactor at a time folds them into `incident_tallies`
(reports/tallies.py). Readers add both, so a count is right the moment its write commits.
"""

from __future__ import annotations

from sqlalchemy import (
    CheckConstraint,
    Column,
    Date,
    Integer,
    String,
    Table,
    UniqueConstraint,
)

from app.db import Base
from app.timestamps import check_in

GRAINS = ("day", "month")
DIMENSIONS = ("category", "status", "zone")


def _tally_columns() -> list[Column[object]]:
    return [
        Column("grain", String(5), nullable=False),
        Column("day", Date, nullable=False),  # the bucket's first day, Vietnam time
        Column("border_id", Integer, nullable=False),
        Column("province_code", String(40)),
        Column("unit", String(40), nullable=False),  # district, else province, else unassigned
        Column("dimension", String(10)),  # month grain: category, status or zone
        Column("value", String(40)),  # month grain: the category, status or zone
        Column("opened", Integer, nullable=False),
        Column("closed", Integer, nullable=False),
    ]


incident_tallies = Table(
    "incident_tallies",
    Base.metadata,
    *_tally_columns(),
    CheckConstraint(check_in("grain", list(GRAINS)), name="grain"),
    CheckConstraint(check_in("dimension", list(DIMENSIONS)), name="dimension"),
    # The compactor's upsert key; (grain, day) leads, so it is also the period's index.
    UniqueConstraint(
        "grain",
        "day",
        "border_id",
        "province_code",
        "unit",
        "dimension",
        "value",
        name="uq_incident_tallies_key",
        postgresql_nulls_not_distinct=True,
    ),
)

# No key: rows are only ever inserted (by the triggers) and deleted (by the compactor).
incident_tally_deltas = Table("incident_tally_deltas", Base.metadata, *_tally_columns())

"""What the summaries answer as JSON (their response models). A table's rows are the
spreadsheet's rows: their columns are each table's own (docs/analysts.md)."""

from __future__ import annotations

from datetime import date
from typing import Any

from pydantic import Field

from app.answers import Answer


class Period(Answer):
    from_: date = Field(alias="from")
    to: date


class DistrictFilters(Answer):
    border: str | None
    province: str | None


class ReportUnit(Answer):
    unit: str
    level: str | None
    name: str
    province: str | None


class DistrictReport(Answer):
    period: Period
    filters: DistrictFilters
    group: str  # district | month
    units: list[ReportUnit]
    tables: dict[str, list[dict[str, Any]]]  # summary, incidents_by_category, ...


class Counted(Answer):
    count: int
    illustrative: int  # of them, how many the demo made up (positions, dates)


class YearEvents(Answer):
    opened: Counted
    settled: Counted
    reported_to_ministry: Counted
    referred_to_joint_committee: Counted
    notes_sent: Counted
    notes_received: Counted
    talks: Counted
    calls: Counted
    joint_verifications: Counted
    agreements: Counted
    under_watch: Counted
    opened_by_category: dict[str, int]


class ProvinceYear(Answer):
    """A province's year laid out as its annual report (docs/cases.md)."""

    province: str
    province_name: str
    year: int
    period: Period
    events: YearEvents
    approvals: dict[str, dict[str, Counted]]  # by side, then submitted/approved/...
    clearing: dict[str, Any]
    markers: dict[str, Any]
    gates: dict[str, Any]
    cases: list[dict[str, Any]]
    steps: list[dict[str, Any]]
    approval_requests: list[dict[str, Any]]
    clearing_works: list[dict[str, Any]]
    documents: list[dict[str, Any]]

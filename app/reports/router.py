from __future__ import annotations

import json
from datetime import date
from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query, Response

from app.auth.caller import Caller
from app.auth.dependencies import CallerDep
from app.auth.models import Role
from app.db import BulkSessionDep
from app.errors import Forbidden, InvalidInput
from app.reports.formats import table_csv, tables_xlsx
from app.reports.province import province_report, report_html, report_tables
from app.reports.queries import ReportQuery
from app.reports.schemas import DistrictReport, ProvinceYear
from app.reports.service import district_report

router = APIRouter(prefix="/api/v1/reports", tags=["reports"])
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _scoped_province(caller: Caller, asked: str | None) -> str | None:
    """Officers and reporters count only their province's events, as they see only those:
    asking for no province means theirs, asking for another is refused."""
    if caller.role in (Role.admin, Role.analyst):
        return asked
    if asked is not None and asked != caller.province_code:
        raise Forbidden(f"your token covers {caller.province_code}, not {asked}")
    return caller.province_code


@router.get(
    "/districts",
    summary="Per-district summary for a period (JSON, CSV, XLSX)",
    response_model=DistrictReport,
)
async def districts_report(
    session: BulkSessionDep,
    caller: CallerDep,
    from_: Annotated[date, Query(alias="from", description="First day (Vietnam time)")],
    to: Annotated[date, Query(description="Last day, inclusive")],
    border: Annotated[str | None, Query(max_length=5)] = None,
    province: Annotated[str | None, Query(max_length=40)] = None,
    group: Literal["district", "month"] = "district",
    format: Literal["json", "csv", "xlsx"] = "json",
    table: Annotated[str, Query(description="The table a CSV holds")] = "summary",
) -> Response:
    province = _scoped_province(caller, province)
    q = ReportQuery(
        start=from_, end=to, border=border, province=province, by_month=group == "month"
    )
    units, tables = await district_report(session, q)
    stem = f"bordermark-districts-{from_.isoformat()}-{to.isoformat()}"
    if format == "csv":
        chosen = next((t for t in tables if t.name == table), None)
        if chosen is None:
            names = ", ".join(t.name for t in tables)
            raise InvalidInput(f"unknown table {table!r}; tables: {names}", field="table")
        return Response(
            table_csv(chosen),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="{stem}-{table}.csv"'},
        )
    if format == "xlsx":
        return Response(
            tables_xlsx(tables, title=stem),
            media_type=XLSX,
            headers={"Content-Disposition": f'attachment; filename="{stem}.xlsx"'},
        )
    body = {
        "period": {"from": from_.isoformat(), "to": to.isoformat()},
        "filters": {"border": border, "province": province},
        "group": group,
        "units": units,
        "tables": {t.name: t.rows for t in tables},
    }
    return Response(
        json.dumps(body, ensure_ascii=False, default=str), media_type="application/json"
    )


@router.get(
    "/provinces/{province}/{year}",
    summary="A province's year laid out like its annual report (JSON, HTML for print, XLSX)",
    response_model=ProvinceYear,
)
async def province_year_report(
    session: BulkSessionDep,
    caller: CallerDep,
    province: Annotated[str, Path(max_length=40, examples=["lang-son"])],
    year: Annotated[int, Path(ge=1990, le=2100)],
    format: Literal["json", "html", "xlsx"] = "json",
) -> Response:
    _scoped_province(caller, province)
    report = await province_report(session, province, year)
    stem = f"bordermark-{province}-{year}"
    if format == "html":
        return Response(report_html(report), media_type="text/html; charset=utf-8")
    if format == "xlsx":
        return Response(
            tables_xlsx(report_tables(report), title=stem),
            media_type=XLSX,
            headers={"Content-Disposition": f'attachment; filename="{stem}.xlsx"'},
        )
    return Response(
        json.dumps(report, ensure_ascii=False, default=str), media_type="application/json"
    )

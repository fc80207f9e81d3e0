from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Depends, Query
from fastapi.responses import JSONResponse

from app.answers import Recorded
from app.auth.dependencies import CallerDep
from app.db import SessionDep
from app.geojson import GEOJSON_MEDIA_TYPE
from app.inspections import queries, service
from app.inspections.schemas import ConditionsOn, InspectionCreate, RepairCreate
from app.params import OnlyDeclaredParams

router = APIRouter(prefix="/api/v1", tags=["marker inspections and repairs"])
Border = Annotated[str | None, Query(max_length=5)]
MarkerCodeQuery = Annotated[str | None, Query(max_length=40, description="e.g. 1088/2")]
Province = Annotated[str | None, Query(max_length=40)]
Year = Annotated[int | None, Query(ge=1950, le=2100)]


async def _record_filter(
    border: Border = None,
    marker: MarkerCodeQuery = None,
    province: Province = None,
    year: Year = None,
) -> queries.RecordFilter:
    return queries.RecordFilter(border, marker, province, year)


RecordFilterDep = Annotated[queries.RecordFilter, Depends(_record_filter)]


@router.get(
    "/inspections",
    summary="Marker inspections, each at its marker, by marker and day",
    dependencies=[OnlyDeclaredParams],
)
async def list_inspections(
    session: SessionDep, caller: CallerDep, chosen: RecordFilterDep
) -> JSONResponse:
    found = await queries.list_inspections(session, chosen)
    return JSONResponse(found, media_type=GEOJSON_MEDIA_TYPE)


@router.post(
    "/inspections",
    status_code=201,
    summary="Record what an inspection found (officer)",
    response_model=Recorded,
)
async def record_inspection(
    body: InspectionCreate, session: SessionDep, caller: CallerDep
) -> JSONResponse:
    inspection_id, created = await service.record_inspection_and_commit(
        session, caller=caller, body=body
    )
    return JSONResponse(
        {"id": str(inspection_id), "result": "created" if created else "duplicate"},
        status_code=201 if created else 200,
    )


@router.get(
    "/repairs",
    summary="Repairs and restorations of markers, planned and done",
    dependencies=[OnlyDeclaredParams],
)
async def list_repairs(
    session: SessionDep, caller: CallerDep, chosen: RecordFilterDep
) -> JSONResponse:
    found = await queries.list_repairs(session, chosen)
    return JSONResponse(found, media_type=GEOJSON_MEDIA_TYPE)


@router.post(
    "/repairs",
    status_code=201,
    summary="Record a repair or restoration (officer)",
    response_model=Recorded,
)
async def record_repair(body: RepairCreate, session: SessionDep, caller: CallerDep) -> JSONResponse:
    repair_id, created = await service.record_repair_and_commit(session, caller=caller, body=body)
    return JSONResponse(
        {"id": str(repair_id), "result": "created" if created else "duplicate"},
        status_code=201 if created else 200,
    )


@router.get(
    "/reports/marker-conditions",
    summary="Markers counted by condition as of a day (their latest inspection by then)",
    dependencies=[OnlyDeclaredParams],
    response_model=ConditionsOn,
)
async def marker_conditions(
    session: SessionDep,
    caller: CallerDep,
    on: Annotated[date, Query(description="The day: each marker's latest inspection by then")],
    province: Province = None,
    border: Border = None,
) -> JSONResponse:
    return JSONResponse(
        await queries.conditions_on(session, on=on, province=province, border=border)
    )

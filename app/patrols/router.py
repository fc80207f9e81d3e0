from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Depends, Query
from fastapi.responses import JSONResponse

from app.answers import Recorded
from app.auth.dependencies import CallerDep
from app.chainage.near import NearStretchDep
from app.db import SessionDep
from app.geojson import GEOJSON_MEDIA_TYPE
from app.params import OnlyDeclaredParams
from app.patrols import queries, service
from app.patrols.schemas import NotPatrolled, PatrolCreate, PatrolReport
from app.timestamps import local_today

router = APIRouter(prefix="/api/v1", tags=["patrols"])


async def _filter(
    province: Annotated[str | None, Query(max_length=40)] = None,
    unit: Annotated[str | None, Query(max_length=200)] = None,
    since: Annotated[date | None, Query(alias="from")] = None,
    until: Annotated[date | None, Query(alias="to")] = None,
    near: NearStretchDep = None,
) -> queries.PatrolFilter:
    return queries.PatrolFilter(province, unit, since, until, near)


PatrolFilterDep = Annotated[queries.PatrolFilter, Depends(_filter)]


@router.get("/patrols", summary="Patrols and their routes", dependencies=[OnlyDeclaredParams])
async def list_patrols(
    session: SessionDep, caller: CallerDep, chosen: PatrolFilterDep
) -> JSONResponse:
    found = await queries.list_patrols(session, chosen, caller=caller)
    return JSONResponse(found, media_type=GEOJSON_MEDIA_TYPE)


@router.post(
    "/patrols", status_code=201, summary="Record a patrol (officer)", response_model=Recorded
)
async def record_patrol(body: PatrolCreate, session: SessionDep, caller: CallerDep) -> JSONResponse:
    patrol_id, created = await service.record_and_commit(session, caller=caller, body=body)
    return JSONResponse(
        {"id": str(patrol_id), "result": "created" if created else "duplicate"},
        status_code=201 if created else 200,
    )


@router.get(
    "/reports/patrols",
    summary="Patrols, kilometres walked and markers checked per unit and month",
    dependencies=[OnlyDeclaredParams],
    response_model=PatrolReport,
)
async def patrols_report(
    session: SessionDep, caller: CallerDep, chosen: PatrolFilterDep
) -> JSONResponse:
    rows = await queries.by_unit_and_month(session, chosen, caller=caller)
    return JSONResponse({"rows": rows})


@router.get(
    "/segments/not-patrolled",
    summary="Segments no patrol has walked for N days",
    dependencies=[OnlyDeclaredParams],
    response_model=NotPatrolled,
)
async def not_patrolled(
    session: SessionDep,
    caller: CallerDep,
    days: Annotated[int, Query(ge=1, le=3650)] = 30,
    on: Annotated[date | None, Query(description="As of this day (default today)")] = None,
    province: Annotated[str | None, Query(max_length=40)] = None,
) -> JSONResponse:
    found = await queries.not_walked(
        session, caller=caller, province=province, days=days, on=on or local_today()
    )
    return JSONResponse({"days": days, "segments": found})

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import JSONResponse

from app.auth.dependencies import CallerDep
from app.chainage.near import NearStretchDep
from app.crossings import queries, service
from app.crossings.models import CrossingLevel, CrossingStatus
from app.crossings.schemas import Concerns, CrossingCreate, LinkIn, StatusChangeIn
from app.db import SessionDep
from app.geojson import GEOJSON_MEDIA_TYPE
from app.params import OnlyDeclaredParams

router = APIRouter(prefix="/api/v1", tags=["crossings"])
CrossingId = Annotated[int, Path(ge=1, le=2_147_483_647, description="The crossing's id")]


@router.get(
    "/crossings", summary="Border gates and crossings as GeoJSON", dependencies=[OnlyDeclaredParams]
)
async def list_crossings(
    request: Request,
    session: SessionDep,
    caller: CallerDep,
    border: Annotated[str | None, Query(max_length=5)] = None,
    province: Annotated[str | None, Query(max_length=40)] = None,
    level: Annotated[list[CrossingLevel] | None, Query()] = None,
    status: Annotated[list[CrossingStatus] | None, Query(description="The current status")] = None,
    open_on: Annotated[
        date | None, Query(description="Only those open that day (open, reopened, upgraded)")
    ] = None,
    near: NearStretchDep = None,
) -> JSONResponse:
    chosen = queries.CrossingFilter(
        border=border,
        province=province,
        levels=tuple(v.value for v in level or []),
        statuses=tuple(v.value for v in status or []),
        open_on=open_on,
        near=near,
    )
    found = await queries.list_crossings(session, chosen)
    return JSONResponse(found, media_type=GEOJSON_MEDIA_TYPE)


@router.get("/crossings/{crossing_id}", summary="A crossing, its status history and links")
async def get_crossing(
    crossing_id: CrossingId, session: SessionDep, caller: CallerDep
) -> JSONResponse:
    found = await queries.get_crossing(session, crossing_id, caller=caller)
    return JSONResponse(found, media_type=GEOJSON_MEDIA_TYPE)


@router.post("/crossings", status_code=201, summary="Record a gate or crossing (officer)")
async def create_crossing(
    body: CrossingCreate, session: SessionDep, caller: CallerDep
) -> JSONResponse:
    crossing_id = await service.create_and_commit(session, caller=caller, body=body)
    return JSONResponse(
        await queries.get_crossing(session, crossing_id, caller=caller),
        status_code=201,
        media_type=GEOJSON_MEDIA_TYPE,
        headers={"Location": f"/api/v1/crossings/{crossing_id}"},
    )


@router.post(
    "/crossings/{crossing_id}/status", summary="Date a change of a crossing's status (officer)"
)
async def change_status(
    crossing_id: CrossingId, body: StatusChangeIn, session: SessionDep, caller: CallerDep
) -> JSONResponse:
    await service.change_status_and_commit(
        session, caller=caller, crossing_id=crossing_id, change=body
    )
    found = await queries.get_crossing(session, crossing_id, caller=caller)
    return JSONResponse(found, media_type=GEOJSON_MEDIA_TYPE)


@router.post(
    "/crossings/{crossing_id}/links",
    status_code=201,
    summary="Say that an incident, a work or an approval request concerns it (officer)",
    response_model=Concerns,
)
async def link(
    crossing_id: CrossingId, body: LinkIn, session: SessionDep, caller: CallerDep
) -> JSONResponse:
    added = await service.link_and_commit(
        session, caller=caller, crossing_id=crossing_id, link=body
    )
    found = await queries.get_crossing(session, crossing_id, caller=caller)
    return JSONResponse(
        {"id": crossing_id, "concerns": found["properties"]["concerns"]},
        status_code=201 if added else 200,
    )

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query
from fastapi.responses import JSONResponse

from app.auth.dependencies import CallerDep
from app.db import SessionDep
from app.disputes import service
from app.disputes.models import DisputeState
from app.disputes.schemas import DisputedAreas, DisputedAreaWithTalks
from app.params import OnlyDeclaredParams

router = APIRouter(prefix="/api/v1", tags=["disputed areas"])
AreaId = Annotated[int, Path(ge=1, le=2_147_483_647)]


@router.get(
    "/disputed-areas",
    summary="Areas where the two sides' views of the line differ",
    response_model=DisputedAreas,
    dependencies=[OnlyDeclaredParams],
)
async def list_areas(
    session: SessionDep,
    caller: CallerDep,
    province: Annotated[str | None, Query(max_length=40)] = None,
    state: DisputeState | None = None,
) -> JSONResponse:
    found = await service.list_areas(
        session, caller=caller, province=province, state=state.value if state else None
    )
    return JSONResponse({"disputed_areas": found})


@router.get(
    "/disputed-areas/{area_id}",
    summary="A disputed area and the talks about it",
    response_model=DisputedAreaWithTalks,
)
async def get_area(area_id: AreaId, session: SessionDep, caller: CallerDep) -> JSONResponse:
    return JSONResponse(await service.get_area(session, area_id, caller=caller))


@router.post(
    "/disputed-areas",
    status_code=201,
    summary="Register a disputed area (officer)",
    response_model=DisputedAreaWithTalks,
)
async def create_area(
    body: service.DisputedAreaCreate, session: SessionDep, caller: CallerDep
) -> JSONResponse:
    area_id = await service.create_and_commit(session, caller=caller, body=body)
    return JSONResponse(
        await service.get_area(session, area_id, caller=caller),
        status_code=201,
        headers={"Location": f"/api/v1/disputed-areas/{area_id}"},
    )


@router.post(
    "/disputed-areas/{area_id}/state",
    summary="Move a disputed area (officer)",
    response_model=DisputedAreaWithTalks,
)
async def change_state(
    area_id: AreaId, body: service.StateChange, session: SessionDep, caller: CallerDep
) -> JSONResponse:
    await service.change_state_and_commit(session, caller=caller, area_id=area_id, change=body)
    return JSONResponse(await service.get_area(session, area_id, caller=caller))

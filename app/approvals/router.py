from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import JSONResponse

from app.approvals import service
from app.approvals.models import Side, Stage
from app.approvals.schemas import (
    ApprovalCreate,
    ApprovalRequestDetail,
    ApprovalRequests,
    StageCreate,
)
from app.auth.dependencies import CallerDep
from app.db import SessionDep
from app.params import LimitParam, OnlyDeclaredParams, SettingsDep, page_size

router = APIRouter(prefix="/api/v1", tags=["approvals"])
RequestId = Annotated[uuid.UUID, Path(description="The approval request's UUID")]


@router.post(
    "/approvals",
    status_code=201,
    summary="Record a request for approval of a work",
    response_model=ApprovalRequestDetail,
)
async def create_approval(
    body: ApprovalCreate, session: SessionDep, caller: CallerDep
) -> JSONResponse:
    request_id, created = await service.create_request(session, caller=caller, body=body)
    return JSONResponse(
        await service.get_request(session, request_id, caller=caller),
        status_code=201 if created else 200,
        headers={"Location": f"/api/v1/approvals/{request_id}"},
    )


@router.get(
    "/approvals",
    summary="Requests for approval, newest submission first",
    dependencies=[OnlyDeclaredParams],
    response_model=ApprovalRequests,
)
async def list_approvals(
    settings: SettingsDep,
    request: Request,
    session: SessionDep,
    caller: CallerDep,
    province: Annotated[str | None, Query(max_length=40)] = None,
    status: Annotated[list[Stage] | None, Query()] = None,
    side: Side | None = None,
    year: Annotated[int | None, Query(ge=1950, le=2100, description="A stage in this year")] = None,
    work_id: uuid.UUID | None = None,
    limit: LimitParam = None,
    offset: Annotated[int, Query(ge=0, le=100_000)] = 0,
) -> JSONResponse:
    size = page_size(limit, default=settings.default_page_size, maximum=settings.max_page_size)
    found, matched = await service.list_requests(
        session,
        caller=caller,
        province=province,
        status=[s.value for s in status or []],
        side=side.value if side else None,
        year=year,
        work_id=work_id,
        limit=size,
        offset=offset,
    )
    return JSONResponse(
        {"approvals": found, "numberMatched": matched, "numberReturned": len(found)}
    )


@router.get(
    "/approvals/{request_id}",
    summary="One request with its stages and documents",
    response_model=ApprovalRequestDetail,
)
async def get_approval(
    request_id: RequestId, session: SessionDep, caller: CallerDep
) -> JSONResponse:
    return JSONResponse(await service.get_request(session, request_id, caller=caller))


@router.post(
    "/approvals/{request_id}/stages",
    status_code=201,
    summary="Record the next stage",
    response_model=ApprovalRequestDetail,
)
async def add_stage(
    request_id: RequestId, body: StageCreate, session: SessionDep, caller: CallerDep
) -> JSONResponse:
    await service.add_stage(session, caller=caller, request_id=request_id, stage=body)
    return JSONResponse(
        await service.get_request(session, request_id, caller=caller), status_code=201
    )

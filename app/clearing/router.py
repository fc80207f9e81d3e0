from __future__ import annotations

import json
import uuid
from datetime import date, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Header, Path, Query, Request, Response

from app.auth.dependencies import CallerDep
from app.auth.scopes import read_scope
from app.borders.service import border_id_of
from app.chainage.service import resolve_prefixed_range
from app.clearing import completions, queries, service
from app.clearing.models import WorkStatus
from app.clearing.schemas import CompletionCreate, WorkCreate, WorkPatch
from app.db import SessionDep
from app.errors import InvalidInput
from app.geojson import decode_cursor, feature_collection, raw_geojson, self_link
from app.paging import page_response
from app.params import (
    CursorParam,
    LimitParam,
    OnlyDeclaredParams,
    SettingsDep,
    etag_of,
    if_match_version,
    page_size,
)

router = APIRouter(prefix="/api/v1", tags=["clearing works"])
WorkId = Annotated[uuid.UUID, Path(description="The clearing work's UUID")]


async def _work_response(
    session: Any, work_id: uuid.UUID, *, status_code: int = 200, extra: dict[str, Any] | None = None
) -> Response:
    feature, version = await queries.work_feature(session, work_id)
    if extra:
        members = "".join(f',"{k}":{json.dumps(v, ensure_ascii=False)}' for k, v in extra.items())
        feature = feature[:-1] + members + "}"
    headers = {"ETag": etag_of(version), "Location": f"/api/v1/clearing-works/{work_id}"}
    return raw_geojson(feature, status_code=status_code, headers=headers)


@router.post(
    "/clearing-works", status_code=201, summary="Record a clearing or border work on a stretch"
)
async def create_work(body: WorkCreate, session: SessionDep, caller: CallerDep) -> Response:
    created = await service.create_work(session, caller=caller, body=body)
    return await _work_response(
        session,
        created.id,
        status_code=201 if created.created else 200,
        extra={"overlaps": created.overlaps},
    )


@router.get(
    "/clearing-works",
    summary="Clearing works as GeoJSON, along the line",
    dependencies=[OnlyDeclaredParams],
)
async def list_works(
    settings: SettingsDep,
    request: Request,
    session: SessionDep,
    caller: CallerDep,
    border: Annotated[str | None, Query(max_length=5)] = None,
    kind: Annotated[list[str] | None, Query()] = None,
    status: Annotated[list[WorkStatus] | None, Query()] = None,
    province: Annotated[str | None, Query(max_length=40)] = None,
    year: Annotated[int | None, Query(ge=1990, le=2100)] = None,
    range_: Annotated[
        str | None,
        Query(alias="range", max_length=120, description="On this stretch: VN-CN:1042-1053/1"),
    ] = None,
    within_m: Annotated[
        float, Query(ge=0, le=100_000, description="With `range`: or this close to its ends")
    ] = 0.0,
    limit: LimitParam = None,
    cursor: CursorParam = None,
) -> Response:
    size = page_size(limit, default=settings.default_page_size, maximum=settings.max_page_size)
    after = decode_cursor(cursor, types=(str, float, str)) if cursor else None
    filters = queries.WorkFilter(
        border=border,
        kinds=list(kind or []),
        statuses=[s.value for s in status or []],
        province=province,
        year=year,
        within_m=within_m,
    )
    if range_ is not None:
        part = await resolve_prefixed_range(session, range_, field="range", border_hint=border)
        filters.stretch = (part.border, part.start.chainage_m, part.end.chainage_m)
    page = await queries.list_works(session, filters, limit=size, after=after)
    return page_response(request, page)


@router.get(
    "/clearing-works/{work_id}",
    summary="One work with its progress, completed parts and approval procedures",
)
async def get_work(work_id: WorkId, session: SessionDep, caller: CallerDep) -> Response:
    # The work's approval is its procedure (app/approvals); `approval` beside it is the
    # flat {body, ref, year} the work was recorded with.
    approvals = await queries.work_approvals(session, work_id, scope=read_scope(caller))
    return await _work_response(session, work_id, extra={"approvals": approvals})


@router.patch("/clearing-works/{work_id}", summary="Edit a work (If-Match required)")
async def patch_work(
    work_id: WorkId,
    body: WorkPatch,
    session: SessionDep,
    caller: CallerDep,
    if_match: Annotated[str | None, Header()] = None,
) -> Response:
    await service.patch_work(
        session, caller=caller, work_id=work_id, patch=body, if_match=if_match_version(if_match)
    )
    return await _work_response(session, work_id)


@router.post(
    "/clearing-works/{work_id}/completions", status_code=201, summary="Record a completed part"
)
async def add_completion(
    work_id: WorkId, body: CompletionCreate, session: SessionDep, caller: CallerDep
) -> Response:
    await completions.add_completion(session, caller=caller, work_id=work_id, body=body)
    return await _work_response(session, work_id, status_code=201)


@router.get(
    "/segments/clearing-status",
    summary="Per segment: last cleared, and share cleared in the period",
)
async def clearing_status(
    request: Request,
    session: SessionDep,
    caller: CallerDep,
    border: Annotated[str, Query(max_length=5)],
    older_than_days: Annotated[
        int, Query(ge=1, le=36_500, description="The period, in days")
    ] = 365,
    min_share: Annotated[
        float, Query(gt=0, le=1, description="Share that counts as cleared")
    ] = 0.5,
    stale_only: bool = False,
    on: Annotated[date | None, Query(description="The day to judge from (default today)")] = None,
) -> Response:
    today = on or date.today()
    border_id = await border_id_of(session, border)
    if today.year < 1990:
        raise InvalidInput("on is too early", field="on")
    features, count = await queries.clearing_status(
        session,
        border_id=border_id,
        cutoff=today - timedelta(days=older_than_days),
        today=today,
        min_share=min_share,
        stale_only=stale_only,
    )
    return feature_collection(
        features,
        number_returned=count,
        links=[self_link(request)],
        older_than_days=older_than_days,
        on=today.isoformat(),
    )

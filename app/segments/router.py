from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Request, Response
from pydantic import BaseModel, Field

from app.auth.dependencies import CallerDep
from app.db import SessionDep
from app.geojson import (
    decode_cursor,
    raw_geojson,
)
from app.paging import page_response
from app.params import (
    CursorParam,
    LimitParam,
    OnlyDeclaredParams,
    SettingsDep,
    marker_code_param,
    page_size,
)
from app.segments import queries, service

router = APIRouter(prefix="/api/v1/segments", tags=["segments"])


@router.get(
    "",
    summary="Segments between consecutive markers, with geodesic lengths",
    dependencies=[OnlyDeclaredParams],
)
async def list_segments(
    settings: SettingsDep,
    request: Request,
    session: SessionDep,
    caller: CallerDep,
    border: Annotated[str | None, Query(max_length=5)] = None,
    from_: Annotated[str | None, Query(alias="from", description="First marker, e.g. 1042")] = None,
    to: Annotated[str | None, Query(description="Last marker, e.g. 1053/1")] = None,
    limit: LimitParam = None,
    cursor: CursorParam = None,
) -> Response:
    size = page_size(limit, default=settings.default_page_size, maximum=settings.max_page_size)
    page = await queries.list_segments(
        session,
        border=border,
        from_code=marker_code_param(from_, "from"),
        to_code=marker_code_param(to, "to"),
        limit=size,
        after=decode_cursor(cursor, types=(str, int, int)) if cursor else None,
    )
    return page_response(request, page)


class SightlineOverride(BaseModel):
    sightline_width_m: float | None = Field(
        gt=0, le=1_000, description="Corridor width on this segment, metres; null clears it."
    )


@router.patch("/{segment_id}", summary="Override the sightline corridor width (admin)")
async def patch_segment(
    segment_id: Annotated[int, Path(ge=1)],
    body: SightlineOverride,
    session: SessionDep,
    caller: CallerDep,
) -> Response:
    await service.set_sightline_override(
        session, caller=caller, segment_id=segment_id, width_m=body.sightline_width_m
    )
    return raw_geojson(await queries.segment_feature(session, segment_id))

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Request, Response
from pydantic import BaseModel, Field

from app.auth.dependencies import CallerDep
from app.borders import queries, service
from app.db import SessionDep
from app.geojson import feature_collection, raw_geojson, self_link

router = APIRouter(prefix="/api/v1/borders", tags=["borders"])

BorderPath = Annotated[str, Path(description="Border code, e.g. VN-CN", max_length=5)]


@router.get("", summary="Borders as a GeoJSON FeatureCollection")
async def list_borders(
    request: Request,
    session: SessionDep,
    caller: CallerDep,
    geometry: Annotated[
        bool, Query(description="Include the lines (about 1,000 vertices each).")
    ] = True,
) -> Response:
    features, count = await queries.borders_features(session, with_geometry=geometry)
    return feature_collection(features, number_returned=count, links=[self_link(request)])


@router.get("/{border}", summary="One border with its zones")
async def get_border(
    border: BorderPath, session: SessionDep, caller: CallerDep, geometry: bool = True
) -> Response:
    return raw_geojson(await queries.border_feature(session, border, with_geometry=geometry))


class ZoneUpdate(BaseModel):
    distance_m: float = Field(gt=0, le=100_000, description="Distance from the line, metres.")
    article: str | None = Field(default=None, max_length=100)


@router.put("/{border}/zones/{zone}", summary="Set a zone's distance (admin)")
async def put_zone(
    border: BorderPath,
    zone: Annotated[str, Path(max_length=40)],
    body: ZoneUpdate,
    session: SessionDep,
    caller: CallerDep,
) -> Response:
    await service.set_zone_distance(
        session,
        caller=caller,
        border_code=border,
        zone_code=zone,
        distance_m=body.distance_m,
        article=body.article,
    )
    return raw_geojson(await queries.border_feature(session, border, with_geometry=False))

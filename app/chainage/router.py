from __future__ import annotations

import json
from dataclasses import asdict
from typing import Annotated, Any

from fastapi import APIRouter, Query, Response

from app.auth.dependencies import CallerDep
from app.chainage import service
from app.db import SessionDep
from app.errors import InvalidInput
from app.geo.chainage import (
    InvalidChainage,
    is_range,
    parse_chainage,
    parse_range,
    split_border_prefix,
)
from app.geojson import raw_geojson
from app.params import CrsParam, epsg_param, point_to_wgs84

router = APIRouter(prefix="/api/v1/chainage", tags=["chainage"])


def _feature(geometry: dict[str, Any], properties: dict[str, Any]) -> Response:
    return raw_geojson(
        json.dumps(
            {"type": "Feature", "geometry": geometry, "properties": properties}, ensure_ascii=False
        )
    )


def _border(border: str | None, prefixed: str | None) -> str:
    chosen = prefixed or border
    if not chosen:
        raise InvalidInput("name the border: border=VN-CN or ref=VN-CN:1248+470", field="border")
    if border and prefixed and border.upper() != prefixed:
        raise InvalidInput(f"ref names {prefixed} but border is {border}", field="border")
    return chosen


@router.get(
    "", summary="Resolve a chainage (1248+470) to a point or a range (1042-1053/1) to a line"
)
async def resolve(
    session: SessionDep,
    caller: CallerDep,
    ref: Annotated[str, Query(max_length=80, examples=["1248+470", "1042-1053/1", "VN-CN:1089"])],
    border: Annotated[str | None, Query(max_length=5)] = None,
) -> Response:
    prefixed, body = split_border_prefix(ref)
    code = _border(border, prefixed)
    try:
        if is_range(body):
            stretch = await service.resolve_range(session, border=code, stretch=parse_range(body))
            return _feature(
                stretch.geometry,
                {
                    "border": stretch.border,
                    "ref": stretch.ref,
                    "length_m": round(stretch.length_m, 1),
                    "from": {k: v for k, v in asdict(stretch.start).items() if k != "border"},
                    "to": {k: v for k, v in asdict(stretch.end).items() if k != "border"},
                },
            )
        point = await service.resolve_point(session, border=code, ref=parse_chainage(body))
    except InvalidChainage as exc:
        raise InvalidInput(str(exc), field="ref") from exc
    props = asdict(point)
    return _feature(props.pop("geometry"), props)


@router.get("/locate", summary="From a point to its chainage, distance to the line and side")
async def locate(
    session: SessionDep,
    caller: CallerDep,
    border: Annotated[str, Query(max_length=5)],
    lon: Annotated[float, Query(description="x in `crs` (longitude in EPSG:4326)")],
    lat: Annotated[float, Query(description="y in `crs` (latitude in EPSG:4326)")],
    crs: CrsParam = None,
) -> Response:
    x, y = point_to_wgs84(lon, lat, epsg_param(crs), field="lon")
    found = await service.locate(session, border=border, lon=x, lat=y)
    props = asdict(found)
    return _feature(props.pop("point_on_line"), props)

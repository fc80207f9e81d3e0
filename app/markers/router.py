from __future__ import annotations

import json
from typing import Annotated

from fastapi import APIRouter, Header, Path, Query, Request, Response
from shapely.geometry import Point

from app.auth.dependencies import CallerDep
from app.db import SessionDep
from app.errors import InvalidInput
from app.geo.geometry import InvalidGeometry, parse_geometry
from app.geo.marker_codes import parse_marker_code
from app.geojson import (
    decode_cursor,
    feature_collection,
    parse_bbox,
    raw_geojson,
)
from app.markers import queries, service
from app.markers.models import MarkerCondition
from app.markers.schemas import MarkerCreate, MarkerPatch
from app.paging import page_response
from app.params import (
    CrsParam,
    CursorParam,
    LimitParam,
    OnlyDeclaredParams,
    SettingsDep,
    app_settings,
    epsg_param,
    etag_of,
    if_match_version,
    input_epsg,
    marker_code_param,
    page_size,
    point_to_wgs84,
)

router = APIRouter(prefix="/api/v1", tags=["markers"])

POINT_ONLY = frozenset({"Point"})


def _point(request: Request, geometry: object, epsg: int) -> Point:
    try:
        geom = parse_geometry(
            geometry,
            epsg=epsg,
            max_vertices=app_settings(request).max_vertices,
            allowed_types=POINT_ONLY,
        )
    except InvalidGeometry as exc:
        raise InvalidInput(exc.message, field=exc.field) from exc
    assert isinstance(geom, Point)
    return geom


def _etag(feature_json: str) -> str:
    return etag_of(json.loads(feature_json)["properties"]["version"])


@router.get(
    "/markers",
    summary="Markers as GeoJSON, in code order, with keyset paging",
    dependencies=[OnlyDeclaredParams],
)
async def list_markers(
    settings: SettingsDep,
    request: Request,
    session: SessionDep,
    caller: CallerDep,
    border: Annotated[str | None, Query(max_length=5)] = None,
    from_: Annotated[str | None, Query(alias="from", description="First code, e.g. 1042")] = None,
    to: Annotated[str | None, Query(description="Last code, e.g. 1053/1")] = None,
    bbox: Annotated[str | None, Query(description="minlon,minlat,maxlon,maxlat")] = None,
    condition: Annotated[list[MarkerCondition] | None, Query()] = None,
    limit: LimitParam = None,
    cursor: CursorParam = None,
) -> Response:
    size = page_size(limit, default=settings.default_page_size, maximum=settings.max_page_size)
    after = decode_cursor(cursor, types=(str, int, int, int)) if cursor else None
    filters = queries.MarkerFilter(
        border=border,
        from_code=marker_code_param(from_, "from"),
        to_code=marker_code_param(to, "to"),
        bbox=parse_bbox(bbox),
        conditions=tuple(c.value for c in condition or ()),
    )
    page = await queries.list_markers(session, filters, limit=size, after=after)
    return page_response(request, page)


@router.get("/markers/nearest", summary="The k markers nearest a point, with distances in metres")
async def nearest_markers(
    session: SessionDep,
    caller: CallerDep,
    lon: Annotated[float, Query(description="x in `crs` (longitude in EPSG:4326)")],
    lat: Annotated[float, Query(description="y in `crs` (latitude in EPSG:4326)")],
    k: Annotated[int, Query(ge=1, le=100)] = 5,
    border: Annotated[str | None, Query(max_length=5)] = None,
    crs: CrsParam = None,
) -> Response:
    x, y = point_to_wgs84(lon, lat, epsg_param(crs), field="lon")
    features, count = await queries.nearest_markers(session, lon=x, lat=y, k=k, border=border)
    return feature_collection(features, number_returned=count, links=[])


@router.post("/markers", status_code=201, summary="Add a marker (officer in province, admin)")
async def create_marker(
    request: Request,
    body: MarkerCreate,
    session: SessionDep,
    caller: CallerDep,
    crs: CrsParam = None,
) -> Response:
    props = body.properties
    code = parse_marker_code(props.code)
    await service.create_marker(
        session,
        caller=caller,
        border_code=props.border,
        marker=service.MarkerInput(
            code=code,
            point=_point(request, body.geometry, input_epsg(crs, body.crs)),
            kind=props.kind,
            condition=props.condition,
            elevation_m=props.elevation_m,
            last_inspected_on=props.last_inspected_on,
            notes=props.notes,
        ),
    )
    feature = await queries.marker_feature(session, border=props.border, code=code)
    location = f"/api/v1/borders/{props.border.upper()}/markers/{code}"
    return raw_geojson(
        feature, status_code=201, headers={"Location": location, "ETag": _etag(feature)}
    )


CodePath = Annotated[str, Path(description="Marker code as written: 1088/2, 836(2), 944/1(2)")]


@router.get("/borders/{border}/markers/{code:path}", summary="One marker as a GeoJSON Feature")
async def get_marker(
    border: str, code: CodePath, session: SessionDep, caller: CallerDep
) -> Response:
    parsed = marker_code_param(code, "code")
    assert parsed is not None
    feature = await queries.marker_feature(session, border=border, code=parsed)
    return raw_geojson(feature, headers={"ETag": _etag(feature)})


@router.patch("/borders/{border}/markers/{code:path}", summary="Edit a marker (officer, admin)")
async def patch_marker(
    request: Request,
    border: str,
    code: CodePath,
    body: MarkerPatch,
    session: SessionDep,
    caller: CallerDep,
    crs: CrsParam = None,
    if_match: Annotated[str | None, Header()] = None,
) -> Response:
    parsed = marker_code_param(code, "code")
    assert parsed is not None
    fields = body.model_fields_set
    if "condition" in fields and body.condition is None:
        raise InvalidInput("condition cannot be cleared", field="condition")
    point = (
        _point(request, body.geometry, input_epsg(crs, body.crs))
        if body.geometry is not None
        else None
    )
    await service.update_marker(
        session,
        caller=caller,
        border_code=border,
        code=parsed,
        changes=service.MarkerChanges(
            fields_set=frozenset(fields),
            point=point,
            condition=body.condition,
            elevation_m=body.elevation_m,
            last_inspected_on=body.last_inspected_on,
            notes=body.notes,
        ),
        if_match_version=if_match_version(if_match),
    )
    feature = await queries.marker_feature(session, border=border, code=parsed)
    return raw_geojson(feature, headers={"ETag": _etag(feature)})

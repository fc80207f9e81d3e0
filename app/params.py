"""Query-parameter parsing shared by the domain routers (codes, CRS, paging)."""

from __future__ import annotations

import math
from typing import Annotated, Any

import numpy as np
from fastapi import Depends, Query, Request

from app.config import Settings
from app.errors import InvalidInput
from app.geo.crs import OutsideAreaOfUse, UnsupportedCrs, parse_crs, to_wgs84
from app.geo.marker_codes import InvalidMarkerCode, MarkerCode, parse_marker_code

LimitParam = Annotated[
    int | None, Query(ge=1, description="Page size (default and maximum are settings).")
]
CursorParam = Annotated[str | None, Query(description="Opaque cursor from a `next` link.")]
CrsParam = Annotated[
    str | None,
    Query(
        description="CRS of input coordinates: EPSG:4326 (default), 4756, 3405, 3406, "
        "9205-9218, 5897-5899."
    ),
]


def marker_code_param(value: str | None, field: str) -> MarkerCode | None:
    if value is None or value == "":
        return None
    try:
        return parse_marker_code(value)
    except InvalidMarkerCode as exc:
        raise InvalidInput(str(exc), field=field) from exc


def epsg_param(value: str | None, field: str = "crs") -> int:
    try:
        return parse_crs(value)
    except UnsupportedCrs as exc:
        raise InvalidInput(str(exc), field=field) from exc


def input_epsg(query_crs: str | None, body_crs: object = None) -> int:
    """The CRS of input coordinates: the `crs` query parameter or a GeoJSON (2008) body
    member `"crs": {"type": "name", "properties": {"name": "EPSG:9215"}}`; they must agree."""
    from_query = epsg_param(query_crs) if query_crs else None
    from_body = None
    if body_crs is not None:
        name = body_crs.get("properties", {}).get("name") if isinstance(body_crs, dict) else None
        if not isinstance(name, str):
            raise InvalidInput(
                'crs must be {"type": "name", "properties": {"name": "EPSG:...."}}', field="crs"
            )
        from_body = epsg_param(name, field="crs")
    if from_query and from_body and from_query != from_body:
        raise InvalidInput(
            f"the crs parameter (EPSG:{from_query}) and the body's crs (EPSG:{from_body}) differ",
            field="crs",
        )
    return from_query or from_body or epsg_param(None)


def point_to_wgs84(x: float, y: float, epsg: int, *, field: str) -> tuple[float, float]:
    if not (math.isfinite(x) and math.isfinite(y)):
        raise InvalidInput("coordinates must be finite numbers", field=field)
    try:
        lon, lat = to_wgs84(np.array([[x, y]]), epsg)[0]
    except OutsideAreaOfUse as exc:
        raise InvalidInput(str(exc), field=field) from exc
    return float(lon), float(lat)


def page_size(limit: int | None, *, default: int, maximum: int) -> int:
    if limit is None:
        return default
    if limit > maximum:
        raise InvalidInput(f"limit may be at most {maximum}", field="limit")
    return limit


def etag_of(version: int) -> str:
    return f'"{version}"'


def if_match_version(if_match: str | None) -> int | None:
    """The version an If-Match names (`"3"` or `W/"3"`); None for absent or `*`."""
    if if_match is None or if_match.strip() == "*":
        return None
    tag = if_match.strip().removeprefix("W/").strip('"')
    if not tag.isdigit():
        raise InvalidInput("If-Match must be an ETag this service issued", field="If-Match")
    return int(tag)


def app_settings(request: Request) -> Settings:
    """The settings the app was created with (create_app puts them on app.state)."""
    settings: Settings = request.app.state.settings
    return settings


async def _settings(request: Request) -> Settings:
    # async: FastAPI runs a plain `def` dependency in its thread pool (a hop per request).
    return app_settings(request)


SettingsDep = Annotated[Settings, Depends(_settings)]


def _declared_query_names(dependant: Any) -> set[str]:
    names = {p.alias for p in dependant.query_params}
    for sub in dependant.dependencies:
        names |= _declared_query_names(sub)
    return names


async def only_declared_params(request: Request) -> None:
    """Refuse a query parameter the endpoint does not declare (422): a filter misspelt or
    not supported must not be silently ignored, answering with everything."""
    route = request.scope.get("route")
    dependant = getattr(route, "dependant", None)
    if dependant is None:
        return
    declared = _declared_query_names(dependant)
    unknown = sorted(set(request.query_params) - declared)
    if unknown:
        raise InvalidInput(
            f"unknown query parameter {unknown[0]!r}; this endpoint takes: "
            f"{', '.join(sorted(declared))}",
            field=unknown[0],
        )


# On list endpoints: `dependencies=[OnlyDeclaredParams]`.
OnlyDeclaredParams = Depends(only_declared_params)

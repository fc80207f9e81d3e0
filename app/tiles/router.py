"""`/tiles/{layer}/{z}/{x}/{y}.mvt`: one layer per tile, built by PostGIS (ST_TileEnvelope,
ST_AsMVTGeom, ST_AsMVT); lines and polygons simplified to a pixel at low zooms; the
caller's scope and the incident filters apply. An empty tile is 204. Tiles carry an ETag
(a hash of their bytes) so clients revalidate cheaply; caching is private (tokens). Rendered
tiles are kept in memory until a write to their tables commits (cache.py)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Header, Path, Query, Request
from fastapi.responses import JSONResponse, Response

from app.auth.caller import Caller
from app.auth.dependencies import CallerDep
from app.auth.models import Role
from app.db import SessionDep, fetch_value
from app.errors import InvalidInput, NotFound
from app.incidents.models import Status
from app.incidents.queries import IncidentFilter, where_clause
from app.tiles.cache import TileCache
from app.tiles.dense import HALF_WORLD_M, incident_tile_sql

router = APIRouter(prefix="/tiles", tags=["vector tiles"])
MVT_MEDIA_TYPE = "application/vnd.mapbox-vector-tile"
EXTENT = 4096
WORLD_M = 2 * HALF_WORLD_M
MAX_ZOOM = 22


@dataclass(frozen=True)
class Layer:
    source: str
    geom: str
    columns: str  # attribute expressions, aliased
    fields: dict[str, str]  # for TileJSON
    lines_or_areas: bool


LAYERS: dict[str, Layer] = {
    "markers": Layer(
        "markers m JOIN borders b ON b.id = m.border_id",
        "m.geom",
        "m.id, m.code, m.kind, m.condition, b.code AS border",
        {
            "id": "Number",
            "code": "String",
            "kind": "String",
            "condition": "String",
            "border": "String",
        },
        False,
    ),
    "incidents": Layer(
        "incidents i JOIN borders b ON b.id = i.border_id",
        "i.geom",
        "i.id::text AS id, i.category, i.status, i.severity, i.title, "
        "to_char(i.occurred_at, 'YYYY-MM-DD') AS occurred_on, i.side, i.crosses_line",
        {
            "id": "String",
            "category": "String",
            "status": "String",
            "severity": "String",
            "title": "String",
            "occurred_on": "String",
            "side": "String",
            "crosses_line": "Boolean",
            "count": "Number",  # incidents the feature stands for (dense.py)
        },
        True,
    ),
    "segments": Layer(
        "segments s JOIN borders b ON b.id = s.border_id "
        "JOIN markers fm ON fm.id = s.from_marker_id JOIN markers tm ON tm.id = s.to_marker_id",
        "s.geom",
        "s.id, fm.code || '-' || tm.code AS ref, s.kind, round(s.length_m) AS length_m, "
        "cleared.last AS last_cleared_on, CURRENT_DATE - cleared.last AS days_since_cleared",
        {
            "id": "Number",
            "ref": "String",
            "kind": "String",
            "length_m": "Number",
            "last_cleared_on": "String",
            "days_since_cleared": "Number",
        },
        True,
    ),
    "borders": Layer(
        "borders b",
        "b.geom",
        "b.code, b.name_en, b.name_vi",
        {"code": "String", "name_en": "String", "name_vi": "String"},
        True,
    ),
    "districts": Layer(
        "admin_units u",
        "u.geom",
        "u.code, u.level, u.name_vi, u.parent_code AS province",
        {"code": "String", "level": "String", "name_vi": "String", "province": "String"},
        True,
    ),
    "clearing-works": Layer(
        "clearing_works w JOIN borders b ON b.id = w.border_id",
        "w.geom",
        "w.id::text AS id, w.kind, w.status, w.range_ref AS range",
        {"id": "String", "kind": "String", "status": "String", "range": "String"},
        True,
    ),
}

# Segments carry the age of their clearing (for colouring the line).
SEGMENT_CLEARED = """
LEFT JOIN LATERAL (
  SELECT max(c.completed_on) AS last FROM clearing_completions c
  JOIN clearing_works w ON w.id = c.work_id
  JOIN clearing_work_kinds k ON k.code = w.kind AND k.is_clearing
  WHERE c.border_id = s.border_id AND c.start_m < s.end_m AND c.end_m > s.start_m
    AND w.status <> 'cancelled') cleared ON TRUE
"""


def _layer(name: str) -> Layer:
    layer = LAYERS.get(name)
    if layer is None:
        raise NotFound(f"no tile layer {name!r}; layers: {', '.join(LAYERS)}")
    return layer


def _filters(
    name: str,
    caller: Caller,
    status: list[Status] | None,
    category: list[str] | None,
    since: date | None,
    until: date | None,
    params: dict[str, Any],
) -> str:
    if name != "incidents":
        return "TRUE"
    return (
        where_clause(
            IncidentFilter(
                statuses=[s.value for s in status or []],
                categories=list(category or []),
                occurred_since=None,
                occurred_until=None,
            ),
            caller,
            params,
        )
        + (" AND i.occurred_at >= CAST(:since AS date)" if since else "")
        + (" AND i.occurred_at < CAST(:until AS date) + 1" if until else "")
    )


@router.get("/{layer}/{z}/{x}/{y}.mvt", summary="A vector tile of one layer")
async def tile(
    request: Request,
    layer: Annotated[str, Path(max_length=20)],
    z: Annotated[int, Path(ge=0, le=MAX_ZOOM)],
    x: Annotated[int, Path(ge=0)],
    y: Annotated[int, Path(ge=0)],
    session: SessionDep,
    caller: CallerDep,
    status: Annotated[list[Status] | None, Query()] = None,
    category: Annotated[list[str] | None, Query()] = None,
    since: date | None = None,
    until: date | None = None,
    if_none_match: Annotated[str | None, Header()] = None,
) -> Response:
    spec = _layer(layer)
    if x >= 2**z or y >= 2**z:
        raise InvalidInput(
            f"tile {z}/{x}/{y} does not exist: x and y must be below {2**z}", field="x"
        )
    params: dict[str, Any] = {
        "z": z,
        "x": x,
        "y": y,
        "layer": layer,
        "extent": EXTENT,
        "pixel": WORLD_M / (2**z * 256),
        "since": since,
        "until": until,
    }
    cache: TileCache = request.app.state.tile_cache
    key = (
        layer, z, x, y, cache.generation(layer),  # read before rendering: see cache.py
        _scope_key(layer, caller),
        tuple(sorted(s.value for s in status or [])), tuple(sorted(category or [])), since, until,
    )  # fmt: skip
    cached = cache.get(key)
    if cached is not None:
        return _tile_response(*cached, if_none_match, cache_status="hit")
    where = _filters(layer, caller, status, category, since, until, params)
    if layer == "incidents":
        params["max_features"] = request.app.state.settings.tile_max_features
        sql = incident_tile_sql(spec.source, spec.columns, where, params)
    else:
        sql = _tile_sql(layer, spec, where)
    data = await fetch_value(session, sql, params)
    body = bytes(data or b"")
    etag = '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
    cache.put(key, body, etag)
    return _tile_response(body, etag, if_none_match, cache_status="miss")


def _tile_sql(layer: str, spec: Layer, where: str) -> str:
    geom = f"ST_Transform({spec.geom}, 3857)"
    if spec.lines_or_areas:
        # One pixel of tolerance: nothing a map at this zoom could show is lost.
        geom = f"ST_Simplify({geom}, :pixel)"
    joins = SEGMENT_CLEARED if layer == "segments" else ""
    return f"""
    WITH bounds AS (SELECT ST_TileEnvelope(:z, :x, :y) AS b3857,
                           ST_Transform(ST_TileEnvelope(:z, :x, :y), 4326) AS b4326),
    features AS (
      SELECT ST_AsMVTGeom({geom}, bounds.b3857, :extent, 64, true) AS geom, {spec.columns}
      FROM {spec.source} {joins}, bounds
      WHERE {spec.geom} && bounds.b4326 AND {where}
    )
    SELECT ST_AsMVT(features.*, :layer, :extent, 'geom') FROM features WHERE geom IS NOT NULL
    """


def _scope_key(layer: str, caller: Caller) -> str:
    """Whose view a tile is: incidents differ by province for officers and reporters."""
    if layer != "incidents" or caller.role in (Role.admin, Role.analyst):
        return "*"
    return f"province:{caller.province_code}"


def _tile_response(
    body: bytes, etag: str, if_none_match: str | None, cache_status: str
) -> Response:
    headers = {"Cache-Control": "private, max-age=60", "X-Tile-Cache": cache_status}
    if not body:  # nothing falls in this tile
        return Response(status_code=204, headers=headers)
    headers["ETag"] = etag
    if if_none_match == etag:
        return Response(status_code=304, headers=headers)
    return Response(body, media_type=MVT_MEDIA_TYPE, headers=headers)


@router.get("/{layer}.json", summary="TileJSON for one layer")
async def tilejson(
    layer: Annotated[str, Path(max_length=20)], request: Request, caller: CallerDep
) -> JSONResponse:
    spec = _layer(layer)
    base = str(request.base_url).rstrip("/")
    return JSONResponse(
        {
            "tilejson": "3.0.0",
            "name": layer,
            "minzoom": 0,
            "maxzoom": MAX_ZOOM,
            "bounds": [102.0, 8.0, 110.0, 23.5],
            "tiles": [f"{base}/tiles/{layer}/{{z}}/{{x}}/{{y}}.mvt"],
            "vector_layers": [{"id": layer, "fields": spec.fields}],
        }
    )

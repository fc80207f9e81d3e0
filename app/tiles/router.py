"""`/tiles/{layer}/{z}/{x}/{y}.mvt`: one layer per tile, built by PostGIS (ST_TileEnvelope,
ST_AsMVTGeom, ST_AsMVT); lines and polygons simplified to a pixel at low zooms; the
caller's scope and the incident filters apply. An empty tile is 204. Tiles carry an ETag
(a hash of their bytes) so clients revalidate cheaply; caching is private (tokens). Rendered
tiles are kept in memory until a write to their tables commits (cache.py)."""

from __future__ import annotations

import hashlib
from datetime import date
from typing import Annotated

from fastapi import APIRouter, Header, Path, Query, Request
from fastapi.responses import JSONResponse, Response

from app.auth.caller import Caller
from app.auth.dependencies import CallerDep
from app.auth.models import Role
from app.db import SessionDep, fetch_value
from app.errors import InvalidInput
from app.incidents.models import Status
from app.layers import tile_layer
from app.layers.spec import Layer, TileQuery
from app.tiles.cache import TileCache
from app.tiles.schemas import TileJson
from app.tiles.statements import tile_statement

router = APIRouter(prefix="/tiles", tags=["vector tiles"])
MVT_MEDIA_TYPE = "application/vnd.mapbox-vector-tile"
MAX_ZOOM = 22


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
    spec = tile_layer(layer)
    if x >= 2**z or y >= 2**z:
        raise InvalidInput(
            f"tile {z}/{x}/{y} does not exist: x and y must be below {2**z}", field="x"
        )
    query = TileQuery(sorted(s.value for s in status or []), sorted(category or []), since, until)
    cache: TileCache = request.app.state.tile_cache
    key = (
        layer, z, x, y, cache.generation(layer),  # read before rendering: see cache.py
        _scope_key(spec, caller), tuple(query.statuses), tuple(query.categories), since, until,
    )  # fmt: skip
    cached = cache.get(key)
    if cached is not None:
        return _tile_response(*cached, if_none_match, cache_status="hit")
    max_features = request.app.state.settings.tile_max_features
    tile = tile_statement(spec, caller, query, (z, x, y), max_features)
    data = await fetch_value(session, tile.text, tile.params)
    body = bytes(data or b"")
    etag = '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
    cache.put(key, body, etag)
    return _tile_response(body, etag, if_none_match, cache_status="miss")


def _scope_key(layer: Layer, caller: Caller) -> str:
    """Whose view a tile is: a scoped layer's differ by province for officers and
    reporters."""
    if layer.scope is None or caller.role in (Role.admin, Role.analyst):
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


@router.get("/{layer}.json", summary="TileJSON for one layer", response_model=TileJson)
async def tilejson(
    layer: Annotated[str, Path(max_length=20)], request: Request, caller: CallerDep
) -> JSONResponse:
    spec = tile_layer(layer)
    base = str(request.base_url).rstrip("/")
    return JSONResponse(
        {
            "tilejson": "3.0.0",
            "name": layer,
            "minzoom": 0,
            "maxzoom": MAX_ZOOM,
            "bounds": [102.0, 8.0, 110.0, 23.5],
            "tiles": [f"{base}/tiles/{layer}/{{z}}/{{x}}/{{y}}.mvt"],
            "vector_layers": [{"id": layer, "fields": spec.tile_fields()}],
        }
    )

"""A tile's one statement, from its layer's declaration: the layer's tile fields in MVT,
lines and areas simplified to a pixel, the layer's filters; dense layers group points
(dense.py)."""

from __future__ import annotations

from app.auth.caller import Caller
from app.layers.spec import Layer, TileQuery
from app.sql import TRUE, Sql
from app.tiles.dense import HALF_WORLD_M, incident_tile_sql

EXTENT = 4096
WORLD_M = 2 * HALF_WORLD_M


def tile_statement(
    layer: Layer, caller: Caller, query: TileQuery, tile: tuple[int, int, int], max_features: int
) -> Sql:
    """The tile (z, x, y) of the layer: one statement."""
    assert layer.tiles is not None
    # The layer's tile filters, which hold its scope; or its scope alone.
    if layer.tiles.where is not None:
        where = layer.tiles.where(caller, query)
    else:
        where = layer.scope(caller) if layer.scope else TRUE
    z, x, y = tile
    where = where.bind(z=z, x=x, y=y, layer=layer.id, extent=EXTENT, pixel=WORLD_M / (2**z * 256))
    if layer.tiles.dense:
        where = where.bind(max_features=max_features)
        return incident_tile_sql(layer.source, layer.tile_columns(), where, tile, EXTENT)
    geom = f"ST_Transform({layer.geom}, 3857)"
    if layer.tiles.simplify:
        # One pixel of tolerance: nothing a map at this zoom could show is lost.
        geom = f"ST_Simplify({geom}, :pixel)"
    sql = f"""
    WITH bounds AS (SELECT ST_TileEnvelope(:z, :x, :y) AS b3857,
                           ST_Transform(ST_TileEnvelope(:z, :x, :y), 4326) AS b4326),
    features AS (
      SELECT ST_AsMVTGeom({geom}, bounds.b3857, :extent, 64, true) AS geom,
             {layer.tile_columns()}
      FROM {layer.source} {layer.tiles.joins}, bounds
      WHERE {layer.geom} && bounds.b4326 AND {where.text}
    )
    SELECT ST_AsMVT(features.*, :layer, :extent, 'geom') FROM features WHERE geom IS NOT NULL
    """  # noqa: S608
    return where.around(sql)

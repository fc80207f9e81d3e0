"""Incident tiles that stay drawable however many incidents fall in them.

Up to `tile_max_features` incidents a tile holds every one of them. Past that, points are
grouped into square cells of `CELL` tile units (8 pixels of a 512-pixel tile, about a
marker's width on the map) and each cell is drawn once, as its most severe and then most
recent incident, with `count` saying how many incidents the cell stands for. Lines and
areas are never grouped. Every incident tile feature carries `count` (1 when alone).

Why: at one million incidents a z8 tile over the VN-CN crossing held 310,593 points,
29 MB and 2.8 s to build (ST_AsMVT encoding most of it), more than a browser can draw or
the tile cache will keep; grouped it is 535 cells, 52 KB, 0.5 s. tipg instead stops at
10,000 features per tile and drops the rest without saying so.

The grouping works on the stored EPSG:4326 coordinates with the spherical Mercator
formulas (no ST_Transform of every point; transforming and clipping 310,000 points was
most of the scan's cost) and picks each cell's representative with one hash aggregate:
a text key `severity rank | occurred_at epoch | id` whose maximum is the cell's worst,
latest incident, and whose tail is that incident's id."""

from __future__ import annotations

import math

from app.incidents.models import Severity
from app.sql import Sql

CELL = 64  # tile units (EXTENT is 4096): 64 cells across a tile
EARTH_RADIUS_M = 6_378_137.0  # the sphere of EPSG:3857
HALF_WORLD_M = math.pi * EARTH_RADIUS_M  # Mercator x at 180 degrees
_SEVERITY_ORDER = "ARRAY[" + ", ".join(f"'{s.value}'" for s in Severity) + "]"
_KEY = (
    f"coalesce(array_position({_SEVERITY_ORDER}, i.severity::text), 0)::text"
    " || lpad(greatest(0, floor(extract(epoch FROM i.occurred_at)))::bigint::text, 12, '0')"
    " || i.id::text"
)
_ID_IN_KEY = "substr(c.best, 14)::uuid"  # after 1 rank digit and 12 epoch digits


def tile_bounds(z: int, x: int, y: int, extent: int) -> dict[str, float]:
    """The tile's west and north edges in EPSG:3857 metres and its tile units per metre:
    the cell arithmetic binds them as plain numbers."""
    width = 2 * HALF_WORLD_M / 2**z
    return {
        "tile_west": -HALF_WORLD_M + x * width,
        "tile_north": HALF_WORLD_M - y * width,
        "units_per_m": extent / width,
    }


def incident_tile_sql(
    source: str, columns: str, where: Sql, tile: tuple[int, int, int], extent: int
) -> Sql:
    """One statement: whether the tile is dense (counting stops at the cap plus one),
    then either every incident or one per cell. `where` binds `:max_features`, `:z`,
    `:x`, `:y`, `:extent`, `:pixel` and `:layer`; the statement adds the tile's bounds."""
    bounds = tile_bounds(*tile, extent)
    cell_x = f"floor((ST_X(i.geom) * {HALF_WORLD_M} / 180 - :tile_west) * :units_per_m / :cell)"
    cell_y = (
        f"floor((:tile_north - ln(tan(pi() / 4 + radians(ST_Y(i.geom)) / 2)) * {EARTH_RADIUS_M})"
        " * :units_per_m / :cell)"
    )
    in_tile = f"i.geom && ST_Transform(ST_TileEnvelope(:z, :x, :y), 4326) AND {where.text}"
    # Lines and areas simplified to a pixel, as in the other layers; one under a pixel at
    # this zoom (a 30 m fence at z8) would snap to nothing on the tile's grid and is drawn
    # as a point where it lies instead (issue 26: short line incidents vanished at z8).
    # Points, most incidents, go as they are. One CASE, no subquery: measured cheaper.
    envelope = "ST_TileEnvelope(:z, :x, :y), :extent, 64, true"
    metric = "ST_Transform(i.geom, 3857)"
    mvt_geom = f"""CASE
      WHEN ST_Dimension(i.geom) = 0 THEN ST_AsMVTGeom({metric}, {envelope})
      WHEN (ST_Dimension(i.geom) = 1 AND ST_Length({metric}) < :pixel)
        OR (ST_Dimension(i.geom) = 2 AND ST_Area({metric}) < :pixel * :pixel)
      THEN ST_AsMVTGeom(ST_Transform(ST_PointOnSurface(i.geom), 3857), {envelope})
      ELSE ST_AsMVTGeom(ST_Simplify({metric}, :pixel), {envelope}) END"""
    sql = f"""
    WITH dense AS (
      SELECT count(*) > :max_features AS yes
      FROM (SELECT 1 FROM {source} WHERE {in_tile} LIMIT :max_features + 1) capped
    ),
    cells AS (
      SELECT count(*) AS n, max(key) AS best FROM (
        SELECT CASE WHEN point THEN {cell_x} END AS cx, CASE WHEN point THEN {cell_y} END AS cy,
               CASE WHEN point THEN NULL ELSE i.id END AS alone, {_KEY} AS key
        FROM (SELECT i.*, ST_GeometryType(i.geom) = 'ST_Point' AS point
              FROM {source} WHERE (SELECT yes FROM dense) AND {in_tile}) i
      ) keyed GROUP BY cx, cy, alone
    ),
    features AS (
      SELECT {mvt_geom} AS geom, 1 AS count, {columns}
      FROM {source} WHERE NOT (SELECT yes FROM dense) AND {in_tile}
      UNION ALL
      SELECT {mvt_geom} AS geom, c.n AS count, {columns}
      FROM {source} JOIN cells c ON i.id = {_ID_IN_KEY}
    )
    SELECT ST_AsMVT(features.*, :layer, :extent, 'geom') FROM features WHERE geom IS NOT NULL
    """  # noqa: S608
    return where.bind(**bounds, cell=CELL).around(sql)

"""Validate client geometry before it reaches the database.

Structure is checked by geojson-pydantic (types, nesting, closed rings of four or more
positions); this module adds what it does not: finite numbers (Python's JSON parser
accepts NaN and Infinity), a vertex budget, the CRS's area of use, and OGC validity
(self-intersections, wrong nesting) via shapely, with GEOS's own reason in the message.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import shapely
from geojson_pydantic.geometries import Geometry as GeoJSONGeometry
from pydantic import TypeAdapter, ValidationError
from shapely.geometry import shape
from shapely.geometry.base import BaseGeometry

from app.geo.crs import OutsideAreaOfUse, to_wgs84

_GEOMETRY_ADAPTER: TypeAdapter[GeoJSONGeometry] = TypeAdapter(GeoJSONGeometry)


class InvalidGeometry(ValueError):
    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


def _count_positions(coords: Any, budget: int, depth: int = 0) -> int:
    """Count positions without recursing past GeoJSON's deepest nesting (MultiPolygon: 4)."""
    if depth > 4:
        raise ValueError("coordinates nested deeper than any GeoJSON geometry")
    if not isinstance(coords, list | tuple):
        return 0
    if coords and not isinstance(coords[0], list | tuple):
        # A position: numbers only ("106.7" would otherwise be coerced by pydantic).
        if not all(isinstance(v, int | float) and not isinstance(v, bool) for v in coords):
            raise ValueError("a position is a list of numbers")
        return 1
    total = 0
    for item in coords:
        total += _count_positions(item, budget, depth + 1)
        if total > budget:
            break
    return total


def count_positions(geometry: Any, budget: int) -> int:
    """A client geometry's positions, counted up to a little past `budget`; 0 for anything
    that is not a GeoJSON geometry (validation says why later)."""
    if not isinstance(geometry, dict):
        return 0
    try:
        return _count_positions(geometry.get("coordinates"), budget)
    except ValueError:
        return 0


def parse_geometry(
    obj: Any,
    *,
    epsg: int,
    max_vertices: int,
    allowed_types: frozenset[str] | None = None,
    field: str = "geometry",
) -> BaseGeometry:
    """A GeoJSON geometry in `epsg` -> a valid shapely geometry in EPSG:4326 (lon, lat)."""
    if not isinstance(obj, dict):
        raise InvalidGeometry(field, "geometry must be a GeoJSON geometry object")
    gtype = obj.get("type")
    if allowed_types is not None and gtype not in allowed_types:
        raise InvalidGeometry(
            f"{field}.type", f"geometry type must be one of {sorted(allowed_types)}, got {gtype!r}"
        )
    if gtype == "GeometryCollection":
        raise InvalidGeometry(f"{field}.type", "GeometryCollection is not accepted")
    try:
        count = _count_positions(obj.get("coordinates"), max_vertices)
    except ValueError as exc:
        raise InvalidGeometry(f"{field}.coordinates", str(exc)) from exc
    if count > max_vertices:
        raise InvalidGeometry(
            f"{field}.coordinates", f"geometry has more than {max_vertices} vertices"
        )
    try:
        parsed = _GEOMETRY_ADAPTER.validate_python(obj)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"][1:])
        raise InvalidGeometry(f"{field}.{where}" if where else field, first["msg"]) from exc
    try:
        geom = shape(parsed.model_dump(exclude_none=True))
    except ValueError as exc:  # numpy's "inhomogeneous shape": 2-D and 3-D positions mixed
        raise InvalidGeometry(
            f"{field}.coordinates",
            "every position of a geometry must have the same number of coordinates (2 or 3)",
        ) from exc
    if geom.is_empty:
        raise InvalidGeometry(f"{field}.coordinates", "geometry is empty")
    if shapely.get_coordinate_dimension(geom) != 2:
        geom = shapely.force_2d(geom)  # heights are not used; elevation has its own field
    xy = shapely.get_coordinates(geom)
    if not np.isfinite(xy).all():
        raise InvalidGeometry(f"{field}.coordinates", "coordinates must be finite numbers")
    try:
        lonlat = to_wgs84(xy, epsg)
    except OutsideAreaOfUse as exc:
        raise InvalidGeometry(f"{field}.coordinates", str(exc)) from exc
    geom = shapely.set_coordinates(geom, lonlat)
    if not geom.is_valid:
        reason = shapely.is_valid_reason(geom)
        raise InvalidGeometry(f"{field}.coordinates", f"invalid geometry: {reason}")
    return geom

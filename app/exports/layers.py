"""What an export selects, from its layer's declaration (app/layers): the GeoJSON feature
(built by PostGIS) and the flat attributes (for CSV, GeoPackage, KML), over the filters
of its endpoint."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from app.areas.units import OF_LEVELS_ON
from app.auth.caller import Caller
from app.incidents.queries import IncidentFilter, where_clause
from app.layers import LAYERS
from app.layers.kml import KmlLook
from app.layers.spec import Layer

GEOMETRY_COLUMNS = """,
  ST_X(ST_PointOnSurface({g})) AS lon, ST_Y(ST_PointOnSurface({g})) AS lat,
  ST_AsText({g}) AS wkt, ST_AsBinary({g}) AS wkb"""


@dataclass(frozen=True)
class LayerQuery:
    name: str
    feature_sql: str
    attrs_sql: str
    columns: list[str]
    params: dict[str, Any]
    kml: KmlLook


def layer_query(layer: Layer, where: str, params: dict[str, Any]) -> LayerQuery:
    """The export of `layer`'s rows matching `where` (its values in `params`)."""
    assert layer.export is not None, layer.id
    source = f"FROM {layer.source} WHERE {where}"
    order = f"ORDER BY {layer.export.order}"
    attrs = (
        f"SELECT {layer.export_select()}{GEOMETRY_COLUMNS.format(g=layer.geom)} {source} {order}"
    )
    return LayerQuery(
        layer.export.name,
        f"SELECT {layer.feature}::text {source} {order}",
        attrs,
        layer.export_columns(),
        params,
        layer.export.kml,
    )


def incidents(f: IncidentFilter, caller: Caller) -> LayerQuery:
    params: dict[str, Any] = {}
    return layer_query(LAYERS["incidents"], where_clause(f, caller, params), params)


def units(levels: list[str], on: date | None) -> LayerQuery:
    """The register of units, of these levels (all when none), valid `on` a day (every
    version when None)."""
    return layer_query(LAYERS["districts"], OF_LEVELS_ON, {"levels": levels, "on": on})


def on_border(
    layer_id: str,
    border: str | None,
    statuses: list[str] | None = None,
    *,
    caller: Caller | None = None,
) -> LayerQuery:
    """A layer of the line, on one border or all, with only these statuses when given,
    within the caller's scope when the layer has one."""
    layer = LAYERS[layer_id]
    clauses: list[str] = []
    params: dict[str, Any] = {}
    if layer.scope is not None:
        assert caller is not None, f"{layer_id} is scoped: its export needs the caller"
        clauses.append(layer.scope(caller, params))
    if border is not None:
        clauses.append("b.code = :border")
        params["border"] = border.upper()
    if statuses:
        clauses.append(f"{layer.queryables['status'].sql} = ANY(:statuses)")
        params["statuses"] = statuses
    return layer_query(layer, " AND ".join(clauses) or "TRUE", params)

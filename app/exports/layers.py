"""What an export selects, from its layer's declaration (app/layers): the GeoJSON feature
(built by PostGIS) and the flat attributes (for CSV, GeoPackage, KML), over the filters
of its endpoint."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from app.areas.units import OF_LEVELS_ON
from app.auth.caller import Caller
from app.incidents.queries import IncidentFilter, where_clause
from app.layers import LAYERS
from app.layers.kml import KmlLook
from app.layers.spec import Layer
from app.sql import Sql

GEOMETRY_COLUMNS = """,
  ST_X(ST_PointOnSurface({g})) AS lon, ST_Y(ST_PointOnSurface({g})) AS lat,
  ST_AsText({g}) AS wkt, ST_AsBinary({g}) AS wkb"""


@dataclass(frozen=True)
class LayerQuery:
    name: str
    feature_sql: str
    attrs_sql: str
    columns: list[str]
    params: Mapping[str, Any]
    kml: KmlLook


def layer_query(layer: Layer, where: Sql) -> LayerQuery:
    """The export of `layer`'s rows matching `where`."""
    assert layer.export is not None, layer.id
    source = f"FROM {layer.source} WHERE {where.text}"
    order = f"ORDER BY {layer.export.order}"
    attrs = (
        f"SELECT {layer.export_select()}{GEOMETRY_COLUMNS.format(g=layer.geom)} {source} {order}"
    )
    return LayerQuery(
        layer.export.name,
        f"SELECT {layer.feature}::text {source} {order}",
        attrs,
        layer.export_columns(),
        where.params,
        layer.export.kml,
    )


def incidents(f: IncidentFilter, caller: Caller) -> LayerQuery:
    return layer_query(LAYERS["incidents"], where_clause(f, caller))


def units(levels: list[str], on: date | None) -> LayerQuery:
    """The register of units, of these levels (all when none), valid `on` a day (every
    version when None)."""
    return layer_query(LAYERS["districts"], Sql(OF_LEVELS_ON, {"levels": levels, "on": on}))


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
    clauses: list[Sql] = []
    if layer.scope is not None:
        assert caller is not None, f"{layer_id} is scoped: its export needs the caller"
        clauses.append(layer.scope(caller))
    if border is not None:
        clauses.append(Sql("b.code = :border", {"border": border.upper()}))
    if statuses:
        status = layer.queryables["status"].sql
        clauses.append(Sql(f"{status} = ANY(:statuses)", {"statuses": statuses}))
    return layer_query(layer, Sql.all(clauses))

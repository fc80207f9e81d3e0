"""Border events (incidents), whole and split by geometry type for desktop GIS."""

from __future__ import annotations

from dataclasses import replace

from app.auth.caller import Caller
from app.incidents.queries import IncidentFilter, incident_feature, where_clause
from app.layers import kml
from app.layers.spec import Export, Field, Layer, Scope, TileQuery, Tiles
from app.sql import Sql


def _scope(caller: Caller) -> Sql:
    return where_clause(IncidentFilter(), caller)


def _tile_where(caller: Caller, query: TileQuery) -> Sql:
    chosen = IncidentFilter(statuses=query.statuses, categories=query.categories)
    where = where_clause(chosen, caller)
    if query.since:
        where &= Sql("i.occurred_at >= CAST(:since AS date)", {"since": query.since})
    if query.until:
        where &= Sql("i.occurred_at < CAST(:until AS date) + 1", {"until": query.until})
    return where


INCIDENTS = Layer(
    id="incidents",
    title="Border events",
    description="Border events with their context and status.",
    table="incidents i",
    joins=("LEFT JOIN borders b ON b.id = i.border_id",),
    geom="i.geom",
    key="i.id",
    feature=incident_feature(),
    fields=(
        Field("id", "string", "i.id::text", queryable=False, tile=True, export=True),
        Field("border", "string", "b.code", export=True),
        Field("category", "string", "i.category", tile=True, export=True),
        Field("title", "string", "i.title", tile=True, export=True),
        Field("description", "string", "i.description", queryable=False, export=True),
        Field("occurred_at", "timestamp", "i.occurred_at", export=True),
        Field(
            "occurred_on",
            "date",
            "to_char(i.occurred_at, 'YYYY-MM-DD')",
            queryable=False,
            tile=True,
        ),
        Field("severity", "string", "i.severity", tile=True, export=True),
        Field("status", "string", "i.status", tile=True, export=True),
        Field("reported_by", "string", "i.reported_by", queryable=False, export=True),
        Field("tags", "string", "i.tags", queryable=False, export=True),
        Field("province", "string", "i.province_code", export=True),
        Field("district", "string", "i.district_code", export=True),
        Field("commune", "string", "i.commune_code", export=True),
        Field("chainage_ref", "string", "i.chainage_ref", queryable=False, export=True),
        Field(
            "distance_to_line_m",
            "number",
            "i.distance_to_line_m",
            export="round(i.distance_to_line_m::numeric, 1)::float8",
        ),
        Field("side", "string", "i.side", tile=True, export=True),
        Field("crosses_line", "boolean", "i.crosses_line", tile=True, export=True),
        Field("zones", "string", "i.zones", queryable=False, export=True),
        Field(
            "articles",
            "string",
            "(SELECT string_agg(x->>'article', ';') FROM jsonb_array_elements(i.breaches) x)",
            queryable=False,
            export=True,
        ),
        Field("nearest_marker", "string", "i.nearest_marker_code", export=True),
    ),
    scope=_scope,
    datetime="i.occurred_at",
    stored="incident_features",
    stored_key="incident_id",
    extent_box="i.extent_box",
    tiles=Tiles(
        simplify=True,
        drawn_from=("incidents", "borders"),
        extra_fields={"count": "Number"},  # the incidents a grouped feature stands for
        where=_tile_where,
        dense=True,
    ),
    export=Export("incidents", order="i.occurred_at DESC, i.id DESC", kml=kml.incident_look()),
)


def _of_dimension(scope: Scope, dimension: int) -> Scope:
    def scoped(caller: Caller) -> Sql:
        return scope(caller) & Sql(f"ST_Dimension(i.geom) = {dimension}")

    return scoped


# The incidents again, one geometry type each. A QGIS layer has one geometry type, which
# QGIS 3.22 takes from a collection's first ten features: the mixed collection shows as a
# point layer whose lines and areas are never drawn. Added together, these three layers
# draw every incident; their ids stay the incidents' ids.
BY_GEOMETRY_TYPE = [
    replace(
        INCIDENTS,
        id=f"incidents-{noun}",
        title=f"Border events: {noun}",
        description=(
            f"The border events recorded as {noun}: one geometry type, for desktop GIS "
            "layers (add all three in QGIS to see every event)."
        ),
        scope=_of_dimension(_scope, dimension),
        tiles=None,
        export=None,
    )
    for dimension, noun in enumerate(["points", "lines", "areas"])
]

"""Patrol routes: each patrol's stretch or GPS track, read in the caller's province."""

from __future__ import annotations

from app.layers import kml
from app.layers.spec import Export, Field, Layer, Tiles
from app.patrols.queries import PATROL_FEATURE, visibility

PATROLS = Layer(
    id="patrols",
    title="Patrols",
    description="Patrol routes with their unit, time span, length and markers checked.",
    table="patrols p",
    joins=("LEFT JOIN borders b ON b.id = p.border_id",),
    geom="p.geom",
    key="p.id",
    feature=PATROL_FEATURE,
    fields=(
        Field("id", "string", "p.id::text", queryable=False, tile=True, export=True),
        Field("unit", "string", "p.unit", tile=True, export=True),
        Field("station", "string", "p.station_code", tile=True, export=True),
        Field("province", "string", "p.province_code", export=True),
        Field("border", "string", "b.code", export=True),
        Field("started_at", "timestamp", "p.started_at", export=True),
        Field("ended_at", "timestamp", "p.ended_at", queryable=False, export=True),
        Field("route", "string", "p.route_ref", queryable=False, tile=True, export=True),
        Field(
            "length_km",
            "number",
            "p.length_m / 1000",
            tile="round((p.length_m / 1000)::numeric, 1)",
            export="round((p.length_m / 1000)::numeric, 3)::float8",
        ),
    ),
    scope=visibility,
    datetime="p.started_at",
    tiles=Tiles(simplify=True, drawn_from=("patrols", "borders")),
    export=Export(
        "patrols",
        order="p.started_at, p.id",
        kml=kml.plain("patrol", "ff2c7bb6", "a.unit || ' ' || coalesce(a.route, '')"),
    ),
)

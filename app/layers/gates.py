"""Border gates and crossings: the line's register of where it may be crossed."""

from __future__ import annotations

from app.crossings.queries import CROSSING_FEATURE
from app.layers import kml
from app.layers.spec import Export, Field, Layer, Tiles

CROSSINGS = Layer(
    id="crossings",
    title="Border gates and crossings",
    description=(
        "Gates, openings and clearance lanes with their level and current status "
        "(positions illustrative where the reports name no marker)."
    ),
    table="crossings c",
    joins=("LEFT JOIN borders b ON b.id = c.border_id",),
    geom="c.geom",
    key="c.id",
    feature=CROSSING_FEATURE,
    fields=(
        Field("id", "number", "c.id", queryable=False, tile=True, export=True),
        Field("code", "string", "c.code", tile=True, export=True),
        Field("border", "string", "b.code", export=True),
        Field(
            "name",
            "string",
            "c.name_vn || coalesce(' – ' || c.name_other, '')",
            queryable=False,
            tile=True,
            export=True,
        ),
        Field("level", "string", "c.level", tile=True, export=True),
        Field("status", "string", "c.status", tile=True, export=True),
        Field("province", "string", "c.province_code", export=True),
        Field("location", "string", "c.location_ref", queryable=False, export=True),
        Field("place_illustrative", "boolean", "c.place_illustrative", tile=True, export=True),
        Field("serves", "string", "array_to_string(c.serves, ';')", queryable=False, export=True),
        Field("note", "string", "c.note", queryable=False, export=True),
    ),
    tiles=Tiles(simplify=False, drawn_from=("crossings", "borders")),
    export=Export(
        "crossings",
        order="b.code, c.code",
        kml=kml.by_colour("crossing", "status", kml.CROSSING_STATUS_COLOURS, "a.name"),
    ),
)

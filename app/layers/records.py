"""Records kept at the markers: inspections (what a unit found there on a day) and repairs
or restorations, each drawn at its marker."""

from __future__ import annotations

from app.inspections.queries import INSPECTION_FEATURE, REPAIR_FEATURE
from app.layers import kml
from app.layers.spec import Export, Field, Layer, Tiles

_AT_MARKER = (
    "LEFT JOIN markers m ON m.id = {alias}.marker_id",
    "LEFT JOIN borders b ON b.id = m.border_id",
)


def _at_marker(alias: str) -> tuple[str, ...]:
    return tuple(join.format(alias=alias) for join in _AT_MARKER)


_MARKER_FIELDS = (
    Field("border", "string", "b.code", export=True),
    Field("marker", "string", "m.code", tile=True, export=True),
    Field("province", "string", "m.province_code", export=True),
)

INSPECTIONS = Layer(
    id="marker-inspections",
    title="Marker inspections",
    description=(
        "What each inspection found at a marker (intact, damaged, displaced, destroyed, at "
        "risk), by which unit, jointly or not; days illustrative where the reports give none."
    ),
    table="marker_inspections x",
    joins=_at_marker("x"),
    geom="m.geom",
    key="x.id",
    feature=INSPECTION_FEATURE,
    fields=(
        Field("id", "string", "x.id::text", queryable=False, tile=True, export=True),
        *_MARKER_FIELDS,
        Field("inspected_on", "date", "x.inspected_on", tile="x.inspected_on::text", export=True),
        Field("condition", "string", "x.condition", tile=True, export=True),
        Field("unit", "string", "x.unit", export=True),
        Field("joint", "boolean", "x.joint", tile=True, export=True),
        Field("illustrative", "boolean", "x.illustrative", export=True),
        Field("notes", "string", "x.notes", queryable=False, export=True),
    ),
    datetime="x.inspected_on::timestamptz",
    tiles=Tiles(simplify=False, drawn_from=("marker_inspections", "markers", "borders")),
    export=Export(
        "marker_inspections",
        order="b.code, m.number, m.code, x.inspected_on, x.id",
        kml=kml.by_colour(
            "inspection",
            "condition",
            kml.MARKER_CONDITION_COLOURS,
            "a.border || ' ' || a.marker || ' ' || a.inspected_on",
        ),
    ),
)

REPAIRS = Layer(
    id="marker-repairs",
    title="Marker repairs and restorations",
    description="Repairs and restorations of markers, planned or done, by which side.",
    table="marker_repairs r",
    joins=_at_marker("r"),
    geom="m.geom",
    key="r.id",
    feature=REPAIR_FEATURE,
    fields=(
        Field("id", "string", "r.id::text", queryable=False, tile=True, export=True),
        *_MARKER_FIELDS,
        Field("kind", "string", "r.kind", tile=True, export=True),
        Field("side", "string", "r.side", tile=True, export=True),
        Field("status", "string", "r.status", tile=True, export=True),
        Field("planned_on", "date", "r.planned_on", export=True),
        Field("done_on", "date", "r.done_on", export=True),
        Field("illustrative", "boolean", "r.illustrative", export=True),
        Field("notes", "string", "r.notes", queryable=False, export=True),
    ),
    datetime="coalesce(r.done_on, r.planned_on)::timestamptz",
    tiles=Tiles(simplify=False, drawn_from=("marker_repairs", "markers", "borders")),
    export=Export(
        "marker_repairs",
        order="b.code, m.number, m.code, r.id",
        kml=kml.by_colour(
            "repair",
            "status",
            kml.REPAIR_STATUS_COLOURS,
            "a.kind || ' ' || a.border || ' ' || a.marker",
        ),
    ),
)

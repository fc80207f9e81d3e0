"""The line's layers: borders, markers, the segments between them, administrative units."""

from __future__ import annotations

from app.borders.queries import BORDER_FEATURE
from app.geojson import COORD_DECIMALS
from app.layers import kml
from app.layers.spec import Export, Field, Layer, Tiles
from app.markers.queries import MARKER_FEATURE
from app.segments.queries import SEGMENT_FEATURE

BORDERS = Layer(
    id="borders",
    title="Borders",
    description="The land border lines (Natural Earth 1:10m in the demo).",
    table="borders b",
    joins=(),
    geom="b.geom",
    key="b.code",
    feature=BORDER_FEATURE.replace(":with_geometry", "TRUE"),
    fields=(
        Field("code", "string", "b.code", tile=True, export=True),
        Field("name_en", "string", "b.name_en", queryable=False, tile=True, export=True),
        Field("name_vi", "string", "b.name_vi", queryable=False, tile=True, export=True),
    ),
    tiles=Tiles(simplify=True, drawn_from=("borders",)),
    # Written into offline packages (app/offline); no export endpoint of its own.
    export=Export(
        "border_lines",
        order="b.code",
        kml=kml.plain("border", "ff2c2cb0", "a.code || coalesce(' ' || a.name_vi, '')"),
    ),
)

MARKERS = Layer(
    id="markers",
    title="Boundary markers",
    description="The marker register (positions illustrative in the demo).",
    table="markers m",
    joins=("LEFT JOIN borders b ON b.id = m.border_id",),
    geom="m.geom",
    key="m.id",
    feature=MARKER_FEATURE,
    fields=(
        Field("id", "number", "m.id", queryable=False, tile=True, export=True),
        Field("border", "string", "b.code", tile=True, export=True),
        Field("code", "string", "m.code", tile=True, export=True),
        Field("number", "number", "m.number"),
        Field("kind", "string", "m.kind", tile=True, export=True),
        Field("condition", "string", "m.condition", tile=True, export=True),
        Field("elevation_m", "number", "m.elevation_m", export=True),
        Field("last_inspected_on", "date", "m.last_inspected_on", queryable=False, export=True),
        Field("notes", "string", "m.notes", queryable=False, export=True),
        Field(
            "chainage_m",
            "number",
            "m.chainage_m",
            queryable=False,
            export="round(m.chainage_m::numeric, 1)::float8",
        ),
        Field("province", "string", "m.province_code", export=True),
        Field("illustrative", "boolean", "m.illustrative", queryable=False, export=True),
    ),
    tiles=Tiles(simplify=False, drawn_from=("markers", "borders")),
    export=Export(
        "markers",
        order="b.code, m.number, m.aux_index, m.bank_index",
        kml=kml.by_colour(
            "marker", "condition", kml.MARKER_CONDITION_COLOURS, "a.border || ' ' || a.code"
        ),
    ),
)

# Segments carry the age of their clearing in tiles (the map colours the line by it).
_LAST_CLEARED = """
LEFT JOIN LATERAL (
  SELECT max(c.completed_on) AS last FROM clearing_completions c
  JOIN clearing_works w ON w.id = c.work_id
  JOIN clearing_work_kinds k ON k.code = w.kind AND k.is_clearing
  WHERE c.border_id = s.border_id AND c.start_m < s.end_m AND c.end_m > s.start_m
    AND w.status <> 'cancelled') cleared ON TRUE
"""

SEGMENTS = Layer(
    id="segments",
    title="Segments",
    description="The line between consecutive marker positions.",
    table="segments s",
    joins=(
        "LEFT JOIN borders b ON b.id = s.border_id",
        "LEFT JOIN markers fm ON fm.id = s.from_marker_id",
        "LEFT JOIN markers tm ON tm.id = s.to_marker_id",
    ),
    geom="s.geom",
    key="s.id",
    feature=SEGMENT_FEATURE,
    fields=(
        Field("id", "number", "s.id", queryable=False, tile=True, export=True),
        Field("border", "string", "b.code", export=True),
        Field("ref", "string", "fm.code || '-' || tm.code", queryable=False, tile=True),
        Field("from", "string", "fm.code", queryable=False, export=True),
        Field("to", "string", "tm.code", queryable=False, export=True),
        Field(
            "length_m",
            "number",
            "s.length_m",
            tile="round(s.length_m)",
            export="round(s.length_m::numeric, 1)::float8",
        ),
        Field("kind", "string", "s.kind", tile=True, export=True),
        Field("sightline_width_m", "number", "s.sightline_width_m", queryable=False, export=True),
        Field("last_cleared_on", "date", "cleared.last", queryable=False, tile=True),
        Field(
            "days_since_cleared",
            "number",
            "CURRENT_DATE - cleared.last",
            queryable=False,
            tile=True,
        ),
    ),
    tiles=Tiles(
        simplify=True,
        joins=_LAST_CLEARED,
        drawn_from=(
            "segments",
            "borders",
            "markers",
            "clearing_works",
            "clearing_completions",
            "clearing_work_kinds",  # which kinds clear
        ),
    ),
    export=Export(
        "segments",
        order="b.code, s.start_m",
        kml=kml.plain("segment", "ff2c2cb0", "a.border || ' ' || a.\"from\" || '–' || a.\"to\""),
    ),
)

DISTRICTS = Layer(
    id="districts",
    title="Administrative units",
    description="Provinces, districts, communes and Border Guard stations with validity dates.",
    table="admin_units u",
    joins=(),
    geom="u.geom",
    key="u.id",
    feature=f"""
json_build_object('type', 'Feature', 'id', u.id,
  'geometry', ST_AsGeoJSON(u.geom, {COORD_DECIMALS})::json,
  'properties', json_build_object('code', u.code, 'level', u.level, 'name_vi', u.name_vi,
    'name_ascii', u.name_ascii, 'province', u.province_code, 'parent', u.parent_code,
    'valid_from', u.valid_from, 'valid_to', u.valid_to, 'document', u.document,
    'source', u.source))
""",
    fields=(
        Field("id", "number", "u.id", queryable=False, export=True),
        Field("code", "string", "u.code", tile=True, export=True),
        Field("level", "string", "u.level", tile=True, export=True),
        Field("name_vi", "string", "u.name_vi", queryable=False, tile=True, export=True),
        Field("province", "string", "u.province_code", tile=True, export=True),
        Field("parent", "string", "u.parent_code", tile=True, export=True),
        Field("valid_from", "date", "u.valid_from", tile="u.valid_from::text", export=True),
        Field("valid_to", "date", "u.valid_to", tile="u.valid_to::text", export=True),
        Field("document", "string", "u.document", queryable=False, export=True),
        Field("source", "string", "u.source", queryable=False, export=True),
    ),
    datetime="u.valid_from::timestamptz",
    tiles=Tiles(simplify=True, drawn_from=("admin_units",)),
    export=Export(
        "admin_units",
        order="u.province_code NULLS FIRST, u.level, u.code, u.valid_from",
        kml=kml.by_colour(
            "unit", "level", kml.UNIT_LEVEL_COLOURS, "a.name_vi || ' (' || a.level || ')'"
        ),
    ),
)

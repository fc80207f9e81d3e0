"""The placed areas of surveys (an area a report only counts has no place, and no feature)."""

from __future__ import annotations

from app.auth.caller import Caller
from app.geojson import COORD_DECIMALS
from app.layers import kml
from app.layers.spec import Export, Field, Layer, Tiles
from app.sql import Sql


def _placed(caller: Caller) -> Sql:
    # Read by every token, as the surveys are; unplaced areas are not features.
    return Sql("a.geom IS NOT NULL")


SURVEY_AREAS = Layer(
    id="survey-areas",
    title="Survey areas",
    description=(
        "The placed areas of surveys of the line, each with its finding (landslide risk, "
        "river, fence in the sightline corridor, diverging views, ...)."
    ),
    table="survey_areas a",
    joins=(
        "LEFT JOIN surveys s ON s.id = a.survey_id",
        "LEFT JOIN borders b ON b.id = s.border_id",
    ),
    geom="a.geom",
    key="a.id",
    feature=f"""
json_build_object('type', 'Feature', 'id', a.id,
  'geometry', ST_AsGeoJSON(a.geom, {COORD_DECIMALS})::json,
  'properties', json_build_object('survey', s.code, 'survey_title', s.title,
    'border', b.code, 'province', s.province_code, 'led_by', s.led_by, 'scope', s.scope,
    'finding', a.finding, 'location', a.location_ref, 'views', a.views, 'notes', a.notes,
    'started_on', s.started_on, 'ended_on', s.ended_on, 'illustrative', a.illustrative))
""",
    fields=(
        Field("id", "number", "a.id", queryable=False, tile=True, export=True),
        Field("survey", "string", "s.code", tile=True, export=True),
        Field("border", "string", "b.code", export=True),
        Field("province", "string", "s.province_code", export=True),
        Field("finding", "string", "a.finding", tile=True, export=True),
        Field("location", "string", "a.location_ref", queryable=False, export=True),
        Field("led_by", "string", "s.led_by", queryable=False, export=True),
        Field("notes", "string", "a.notes", queryable=False, export=True),
    ),
    scope=_placed,
    tiles=Tiles(simplify=True, drawn_from=("survey_areas", "surveys", "borders")),
    export=Export(
        "survey_areas",
        order="b.code, s.code, a.id",
        kml=kml.by_colour(
            "area", "finding", kml.SURVEY_FINDING_COLOURS, "a.survey || ' ' || a.finding"
        ),
    ),
)

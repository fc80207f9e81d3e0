"""Disputed areas: where the two sides' views of the line differ, read in the caller's
province. An area the register holds without a shape (a stretch not yet drawn) has a null
geometry: listed by the OGC API, absent from the tiles."""

from __future__ import annotations

from app.disputes.service import DISPUTE_FEATURE, visibility
from app.layers import kml
from app.layers.spec import Export, Field, Layer, Tiles

DISPUTED_AREAS = Layer(
    id="disputed-areas",
    title="Disputed areas",
    description="Areas where the two sides' views of the line differ, with their state.",
    table="disputed_areas d",
    joins=("LEFT JOIN borders b ON b.id = d.border_id",),
    geom="d.geom",
    key="d.id",
    feature=DISPUTE_FEATURE,
    fields=(
        Field("id", "number", "d.id", queryable=False, tile=True, export=True),
        Field("code", "string", "d.code", tile=True, export=True),
        Field("border", "string", "b.code", export=True),
        Field("province", "string", "d.province_code", export=True),
        Field("location", "string", "d.location_ref", queryable=False, tile=True, export=True),
        Field("state", "string", "d.state", tile=True, export=True),
        Field("since", "date", "d.since", export=True),
        Field("settled_on", "date", "d.settled_on", export=True),
        Field("our_view", "string", "d.our_view", queryable=False, export=True),
        Field("their_view", "string", "d.their_view", queryable=False, export=True),
    ),
    scope=visibility,
    tiles=Tiles(simplify=True, drawn_from=("disputed_areas", "borders")),
    export=Export(
        "disputed_areas",
        order="b.code, d.code",
        kml=kml.by_colour(
            "dispute",
            "state",
            kml.DISPUTE_STATE_COLOURS,
            "a.code || ' ' || coalesce(a.location, '')",
        ),
    ),
)

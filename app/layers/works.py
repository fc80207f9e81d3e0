"""Works on the line: joint clearing and border works, and requests for approval."""

from __future__ import annotations

from app.approvals.service import APPROVAL_FEATURE
from app.approvals.service import visibility as approval_visibility
from app.auth.caller import Caller
from app.clearing.queries import WORK_FEATURE
from app.layers import kml
from app.layers.spec import Export, Field, Layer, Tiles
from app.sql import Sql

CLEARING_WORKS = Layer(
    id="clearing-works",
    title="Clearing works",
    description="Joint clearing and border works on stretches.",
    table="clearing_works w",
    joins=("LEFT JOIN borders b ON b.id = w.border_id",),
    geom="w.geom",
    key="w.id",
    feature=WORK_FEATURE,
    fields=(
        Field("id", "string", "w.id::text", queryable=False, tile=True, export=True),
        Field("border", "string", "b.code", export=True),
        Field("range", "string", "w.range_ref", queryable=False, tile=True, export=True),
        Field("kind", "string", "w.kind", tile=True, export=True),
        Field("party", "string", "w.party", queryable=False, export=True),
        Field("status", "string", "w.status", tile=True, export=True),
        Field("planned_start", "date", "w.planned_start", queryable=False, export=True),
        Field("planned_end", "date", "w.planned_end", queryable=False, export=True),
        Field("actual_start", "date", "w.actual_start", queryable=False, export=True),
        Field("actual_end", "date", "w.actual_end", queryable=False, export=True),
        Field("length_m", "number", "w.length_m", export="round(w.length_m::numeric, 1)::float8"),
        Field("approval_body", "string", "w.approval_body", queryable=False, export=True),
        Field("approval_ref", "string", "w.approval_ref", queryable=False, export=True),
        Field("approval_year", "number", "w.approval_year", queryable=False, export=True),
    ),
    datetime="coalesce(w.actual_start, w.planned_start)::timestamptz",
    datetime_indexed="coalesce(w.actual_start, w.planned_start)",
    tiles=Tiles(simplify=True, drawn_from=("clearing_works", "borders")),
    export=Export(
        "clearing_works",
        order="b.code, w.start_m, w.id",
        kml=kml.by_colour(
            "work", "status", kml.WORK_STATUS_COLOURS, "a.kind || ' ' || coalesce(a.range, '')"
        ),
    ),
)


def _placed_approvals(caller: Caller) -> Sql:
    # A feature without geometry would give a QGIS layer a second geometry type.
    return approval_visibility(caller) & Sql("r.geom IS NOT NULL")


APPROVALS = Layer(
    id="approvals",
    title="Requests for approval",
    description=(
        "Requests by either side to build or work on the border, where the work would "
        "stand, with their latest stage (requests named by their gate only have no place "
        "and are listed by /api/v1/approvals alone)."
    ),
    table="approval_requests r",
    joins=("LEFT JOIN borders b ON b.id = r.border_id",),
    geom="r.geom",
    key="r.id",
    feature=APPROVAL_FEATURE,
    fields=(
        Field("border", "string", "b.code"),
        Field("status", "string", "r.status"),
        Field("requested_by_side", "string", "r.requested_by_side"),
        Field("work_kind", "string", "r.work_kind"),
        Field("province", "string", "r.province_code"),
    ),
    scope=_placed_approvals,
)

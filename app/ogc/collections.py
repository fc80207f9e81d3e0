"""The collections the OGC surface serves, each a thin description over the domain's own
SQL-built features (so the OGC view and the domain API never disagree)."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

from app.approvals.service import APPROVAL_FEATURE
from app.approvals.service import visibility as approval_visibility
from app.auth.caller import Caller
from app.borders.queries import BORDER_FEATURE
from app.clearing.queries import WORK_FEATURE
from app.geojson import COORD_DECIMALS
from app.incidents.queries import IncidentFilter, incident_feature, where_clause
from app.markers.queries import MARKER_FEATURE
from app.ogc.cql2_sql import Queryable
from app.segments.queries import SEGMENT_FEATURE

DISTRICT_FEATURE = f"""
json_build_object('type', 'Feature', 'id', u.id,
  'geometry', ST_AsGeoJSON(u.geom, {COORD_DECIMALS})::json,
  'properties', json_build_object('code', u.code, 'level', u.level, 'name_vi', u.name_vi,
    'name_ascii', u.name_ascii, 'province', u.parent_code, 'valid_from', u.valid_from,
    'valid_to', u.valid_to, 'source', u.source))
"""


@dataclass(frozen=True)
class Collection:
    id: str
    title: str
    description: str
    # FROM ... (with the aliases the feature SQL uses). Joined tables are LEFT JOINed on
    # NOT NULL foreign keys: the same rows as JOIN, and PostgreSQL drops a join nothing
    # reads (the page's keys, counts, the extent), in planning as in execution.
    source: str
    feature: str
    geom: str  # the geometry column
    key: str  # the feature id column (its text form is the featureId)
    datetime: str | None = None  # the temporal column, when there is one
    scope: Callable[[Caller, dict[str, Any]], str] | None = None
    queryables: dict[str, Queryable] = field(default_factory=dict)
    # `datetime` before its cast to timestamptz, as an index holds it (a cast to timestamptz
    # depends on the session's time zone, so no index can hold the cast value): the
    # temporal extent's min and max are taken of this, off that index, then cast.
    datetime_indexed: str | None = None
    # A table holding each feature as `feature` (JSON text, CRS84, every property) under
    # `stored_key`, kept by the database as the rows change: pages read it instead of
    # building each feature (the incidents' features, migration 6b383289a16b).
    stored: str | None = None
    stored_key: str | None = None
    # A `box` of the geometry under an SP-GiST index that includes `key`: a bbox where few
    # match finds its keys in that index alone (the incidents', migration 8a4d2c6e0b19).
    extent_box: str | None = None

    @property
    def temporal_extent_sql(self) -> str | None:
        """The first and the last instant of the collection, read off an index (on the
        collection's own table, no join)."""
        if self.datetime is None:
            return None
        column = self.datetime_indexed or self.datetime
        return f"SELECT min({column})::timestamptz, max({column})::timestamptz FROM {self.table}"

    @property
    def table(self) -> str:
        """The collection's own table with its alias (the start of `source`): the geometry,
        the key and the datetime are its columns."""
        return " ".join(self.source.split()[:2])

    def source_for(self, *sql: str) -> str:
        """`source`, or the collection's own table alone where `sql` (our own WHERE and
        ORDER BY, values bound or written as numbers) reads none of the joined tables.
        PostgreSQL drops an unread join, but the column it joined on stays among those the
        scan must give, and rules out an index-only scan (PostgreSQL 15)."""
        joined = re.findall(r"\bJOIN\s+\S+\s+(\w+)\s+ON\b", self.source, flags=re.IGNORECASE)
        if any(re.search(rf"\b{alias}\.", part) for alias in joined for part in sql):
            return self.source
        return self.table


def _placed_approvals(caller: Caller, params: dict[str, Any]) -> str:
    # A feature without geometry would give a QGIS layer a second geometry type.
    return f"{approval_visibility(caller, params)} AND r.geom IS NOT NULL"


def _incident_scope(caller: Caller, params: dict[str, Any]) -> str:
    return where_clause(IncidentFilter(), caller, params)


COLLECTIONS: dict[str, Collection] = {
    c.id: c
    for c in [
        Collection(
            "incidents",
            "Border events",
            "Border events with their context and status.",
            "incidents i LEFT JOIN borders b ON b.id = i.border_id",
            incident_feature(),
            "i.geom",
            "i.id",
            "i.occurred_at",
            _incident_scope,
            stored="incident_features",
            stored_key="incident_id",
            extent_box="i.extent_box",
        ),
        Collection(
            "markers",
            "Boundary markers",
            "The marker register (positions illustrative in the demo).",
            "markers m LEFT JOIN borders b ON b.id = m.border_id",
            MARKER_FEATURE,
            "m.geom",
            "m.id",
        ),
        Collection(
            "segments",
            "Segments",
            "The line between consecutive marker positions.",
            "segments s LEFT JOIN borders b ON b.id = s.border_id "
            "LEFT JOIN markers fm ON fm.id = s.from_marker_id "
            "LEFT JOIN markers tm ON tm.id = s.to_marker_id",
            SEGMENT_FEATURE,
            "s.geom",
            "s.id",
        ),
        Collection(
            "clearing-works",
            "Clearing works",
            "Joint clearing and border works on stretches.",
            "clearing_works w LEFT JOIN borders b ON b.id = w.border_id",
            WORK_FEATURE,
            "w.geom",
            "w.id",
            "coalesce(w.actual_start, w.planned_start)::timestamptz",
            datetime_indexed="coalesce(w.actual_start, w.planned_start)",
            queryables={
                "geometry": Queryable("w.geom", "geometry"),
                "border": Queryable("b.code", "string"),
                "kind": Queryable("w.kind", "string"),
                "status": Queryable("w.status", "string"),
                "length_m": Queryable("w.length_m", "number"),
            },
        ),
        Collection(
            "approvals",
            "Requests for approval",
            "Requests by either side to build or work on the border, where the work would "
            "stand, with their latest stage (requests named by their gate only have no place "
            "and are listed by /api/v1/approvals alone).",
            "approval_requests r LEFT JOIN borders b ON b.id = r.border_id",
            APPROVAL_FEATURE,
            "r.geom",
            "r.id",
            scope=_placed_approvals,
            queryables={
                "geometry": Queryable("r.geom", "geometry"),
                "border": Queryable("b.code", "string"),
                "status": Queryable("r.status", "string"),
                "requested_by_side": Queryable("r.requested_by_side", "string"),
                "work_kind": Queryable("r.work_kind", "string"),
                "province": Queryable("r.province_code", "string"),
            },
        ),
        Collection(
            "borders",
            "Borders",
            "The land border lines (Natural Earth 1:10m in the demo).",
            "borders b",
            BORDER_FEATURE.replace(":with_geometry", "TRUE"),
            "b.geom",
            "b.code",
        ),
        Collection(
            "districts",
            "Administrative units",
            "Provinces and districts with validity dates.",
            "admin_units u",
            DISTRICT_FEATURE,
            "u.geom",
            "u.id",
            "u.valid_from::timestamptz",
            queryables={
                "geometry": Queryable("u.geom", "geometry"),
                "code": Queryable("u.code", "string"),
                "level": Queryable("u.level", "string"),
                "province": Queryable("u.parent_code", "string"),
            },
        ),
    ]
}

_MORE_QUERYABLES: dict[str, dict[str, Queryable]] = {
    "incidents": {
        "geometry": Queryable("i.geom", "geometry"),
        "border": Queryable("b.code", "string"),
        "category": Queryable("i.category", "string"),
        "status": Queryable("i.status", "string"),
        "severity": Queryable("i.severity", "string"),
        "title": Queryable("i.title", "string"),
        "province": Queryable("i.province_code", "string"),
        "district": Queryable("i.district_code", "string"),
        "side": Queryable("i.side", "string"),
        "crosses_line": Queryable("i.crosses_line", "boolean"),
        "distance_to_line_m": Queryable("i.distance_to_line_m", "number"),
        "occurred_at": Queryable("i.occurred_at", "timestamp"),
        "nearest_marker": Queryable("i.nearest_marker_code", "string"),
    },
    "markers": {
        "geometry": Queryable("m.geom", "geometry"),
        "border": Queryable("b.code", "string"),
        "code": Queryable("m.code", "string"),
        "number": Queryable("m.number", "number"),
        "kind": Queryable("m.kind", "string"),
        "condition": Queryable("m.condition", "string"),
        "province": Queryable("m.province_code", "string"),
        "elevation_m": Queryable("m.elevation_m", "number"),
    },
    "segments": {
        "geometry": Queryable("s.geom", "geometry"),
        "border": Queryable("b.code", "string"),
        "kind": Queryable("s.kind", "string"),
        "length_m": Queryable("s.length_m", "number"),
    },
    "borders": {
        "geometry": Queryable("b.geom", "geometry"),
        "code": Queryable("b.code", "string"),
    },
}
COLLECTIONS = {
    key: replace(c, queryables={**c.queryables, **_MORE_QUERYABLES.get(key, {})})
    for key, c in COLLECTIONS.items()
}


def _of_dimension(
    scope: Callable[[Caller, dict[str, Any]], str], dimension: int
) -> Callable[[Caller, dict[str, Any]], str]:
    def scoped(caller: Caller, params: dict[str, Any]) -> str:
        return f"{scope(caller, params)} AND ST_Dimension(i.geom) = {dimension}"

    return scoped


# The incidents again, one geometry type each. A QGIS layer has one geometry type, which
# QGIS 3.22 takes from the first ten features of a collection: the mixed collection shows
# as a point layer and its lines and areas are never drawn. Added together, these three
# layers draw every incident. Their ids stay the incidents' ids.
INCIDENT_KINDS = {"points": (0, "points"), "lines": (1, "lines"), "areas": (2, "areas")}
_incidents = COLLECTIONS["incidents"]
assert _incidents.scope is not None
for _suffix, (_dimension, _noun) in INCIDENT_KINDS.items():
    COLLECTIONS[f"incidents-{_suffix}"] = replace(
        _incidents,
        id=f"incidents-{_suffix}",
        title=f"Border events: {_noun}",
        description=(
            f"The border events recorded as {_noun}: one geometry type, for desktop GIS "
            "layers (add all three in QGIS to see every event)."
        ),
        scope=_of_dimension(_incidents.scope, _dimension),
    )

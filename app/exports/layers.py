"""What each export layer selects: the GeoJSON feature (built by PostGIS) and the flat
attributes (for CSV, GeoPackage, KML), over the same filters as the lists."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from app.auth.caller import Caller
from app.clearing.queries import WORK_FEATURE
from app.incidents.queries import IncidentFilter, incident_feature, where_clause
from app.markers.queries import MARKER_FEATURE
from app.segments.queries import SEGMENT_FEATURE

GEOMETRY_COLUMNS = """,
  ST_X(ST_PointOnSurface({g})) AS lon, ST_Y(ST_PointOnSurface({g})) AS lat,
  ST_AsText({g}) AS wkt, ST_AsBinary({g}) AS wkb"""


@dataclass(frozen=True)
class LayerQuery:
    name: str
    feature_sql: str
    attrs_sql: str
    columns: list[str]
    params: dict[str, Any]


INCIDENT_COLUMNS = [
    "id",
    "border",
    "category",
    "title",
    "description",
    "occurred_at",
    "severity",
    "status",
    "reported_by",
    "tags",
    "province",
    "district",
    "chainage_ref",
    "distance_to_line_m",
    "side",
    "crosses_line",
    "zones",
    "articles",
    "nearest_marker",
]


def incidents(f: IncidentFilter, caller: Caller) -> LayerQuery:
    params: dict[str, Any] = {}
    where = where_clause(f, caller, params)
    source = f"FROM incidents i JOIN borders b ON b.id = i.border_id WHERE {where}"
    order = "ORDER BY i.occurred_at DESC, i.id DESC"
    attrs = f"""
    SELECT i.id::text AS id, b.code AS border, i.category, i.title, i.description,
      i.occurred_at, i.severity, i.status, i.reported_by, i.tags, i.province_code AS province,
      i.district_code AS district, i.chainage_ref,
      round(i.distance_to_line_m::numeric, 1)::float8 AS distance_to_line_m, i.side,
      i.crosses_line, i.zones,
      (SELECT string_agg(x->>'article', ';') FROM jsonb_array_elements(i.breaches) x) AS articles,
      i.nearest_marker_code AS nearest_marker{GEOMETRY_COLUMNS.format(g="i.geom")}
    {source} {order}
    """
    return LayerQuery(
        "incidents",
        f"SELECT {incident_feature()}::text {source} {order}",
        attrs,
        INCIDENT_COLUMNS,
        params,
    )


def _border_clause(border: str | None, params: dict[str, Any]) -> str:
    if border is None:
        return "TRUE"
    params["border"] = border.upper()
    return "b.code = :border"


def markers(border: str | None) -> LayerQuery:
    params: dict[str, Any] = {}
    where = _border_clause(border, params)
    source = f"FROM markers m JOIN borders b ON b.id = m.border_id WHERE {where}"
    order = "ORDER BY b.code, m.number, m.aux_index, m.bank_index"
    columns = [
        "id",
        "border",
        "code",
        "kind",
        "condition",
        "elevation_m",
        "last_inspected_on",
        "notes",
        "chainage_m",
        "province",
        "illustrative",
    ]
    attrs = f"""
    SELECT m.id, b.code AS border, m.code, m.kind, m.condition, m.elevation_m,
      m.last_inspected_on, m.notes, round(m.chainage_m::numeric, 1)::float8 AS chainage_m,
      m.province_code AS province, m.illustrative{GEOMETRY_COLUMNS.format(g="m.geom")}
    {source} {order}
    """
    return LayerQuery(
        "markers", f"SELECT {MARKER_FEATURE}::text {source} {order}", attrs, columns, params
    )


def segments(border: str | None) -> LayerQuery:
    params: dict[str, Any] = {}
    source = (
        "FROM segments s JOIN borders b ON b.id = s.border_id "
        "JOIN markers fm ON fm.id = s.from_marker_id JOIN markers tm ON tm.id = s.to_marker_id "
        f"WHERE {_border_clause(border, params)}"
    )
    order = "ORDER BY b.code, s.start_m"
    columns = ["id", "border", "from", "to", "length_m", "kind", "sightline_width_m"]
    attrs = f"""
    SELECT s.id, b.code AS border, fm.code AS "from", tm.code AS "to",
      round(s.length_m::numeric, 1)::float8 AS length_m, s.kind,
      s.sightline_width_m{GEOMETRY_COLUMNS.format(g="s.geom")}
    {source} {order}
    """
    return LayerQuery(
        "segments", f"SELECT {SEGMENT_FEATURE}::text {source} {order}", attrs, columns, params
    )


def clearing_works(border: str | None, statuses: list[str]) -> LayerQuery:
    params: dict[str, Any] = {}
    where = _border_clause(border, params)
    if statuses:
        where += " AND w.status = ANY(:statuses)"
        params["statuses"] = statuses
    source = f"FROM clearing_works w JOIN borders b ON b.id = w.border_id WHERE {where}"
    order = "ORDER BY b.code, w.start_m, w.id"
    columns = [
        "id",
        "border",
        "range",
        "kind",
        "party",
        "status",
        "planned_start",
        "planned_end",
        "actual_start",
        "actual_end",
        "length_m",
        "approval_body",
        "approval_ref",
        "approval_year",
    ]
    attrs = f"""
    SELECT w.id::text AS id, b.code AS border, w.range_ref AS range, w.kind, w.party, w.status,
      w.planned_start, w.planned_end, w.actual_start, w.actual_end,
      round(w.length_m::numeric, 1)::float8 AS length_m, w.approval_body, w.approval_ref,
      w.approval_year{GEOMETRY_COLUMNS.format(g="w.geom")}
    {source} {order}
    """
    return LayerQuery(
        "clearing_works", f"SELECT {WORK_FEATURE}::text {source} {order}", attrs, columns, params
    )

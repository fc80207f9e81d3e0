"""SQL-first reads of incidents: lists with combinable filters and keyset paging, one
incident, its history, similar open reports."""

from __future__ import annotations

import functools
import json
import math
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.caller import Caller
from app.auth.models import Role
from app.auth.scopes import read_scope
from app.db import fetch_row, fetch_rows
from app.errors import NotFound
from app.geojson import COORD_DECIMALS, envelope_sql
from app.incidents.models import OPEN_STATUS_LIST_SQL
from app.paging import Page, fetch_page
from app.sql import TRUE, Sql, containing

# The properties are the database's own function (migration 6b383289a16b), which also
# writes the stored features (incident_features): one definition for both. PostgreSQL
# inlines it, so calling it costs nothing over writing the 30 properties out here.
INCIDENT_PROPERTIES = "bordermark_incident_properties(i, b.code)"


# PostGIS measures `<->` between geographies on a sphere of the mean radius, and
# ST_Distance on the WGS 84 spheroid. For any two places the two differ by less than
# 0.6 % (the spheroid's radii of curvature run from 6,335 to 6,400 km against the sphere's
# 6,371 km), taken here as 1 % either way: a place within d on the spheroid lies within
# d / 0.99 on the sphere, and the (limit+1)-th nearest on the sphere, at s, is within
# 1.01 s on the spheroid. So every incident of a near page lies within 1.01 / 0.99 s on
# the sphere (list_incidents).
SPHERE_SLACK = 1.01 / 0.99
# A near page first reads this many incidents nearest first for each row it returns, at
# least NEAR_SCAN_MIN and at most NEAR_SCAN_MAX (list_incidents): enough where most
# incidents match, and a bounded cost where few do.
NEAR_SCAN_PER_ROW = 10
NEAR_SCAN_MIN = 1_000
NEAR_SCAN_MAX = 20_000
# Circles the statistics expect to hold at most this many incidents are measured whole:
# nearest first costs a sparse circle more (the index scan's start dominates).
NEAR_MEASURE_ALL_AT_MOST = 2_000


def incident_feature(extra_properties: str = "") -> str:
    """An incident's feature as the database stores it (bordermark_incident_feature):
    to_json of a row type, whose fields are the members; the geometry written out, so
    that another CRS can take its place (app/ogc/statements.py)."""
    props = INCIDENT_PROPERTIES
    if extra_properties:
        props = f"(({INCIDENT_PROPERTIES})::jsonb || {extra_properties})::json"
    return (
        f"to_json(ROW('Feature', i.id, ST_AsGeoJSON(i.geom, {COORD_DECIMALS})::json, "
        f"{props})::bordermark_incident_feature_row)"
    )


def stored_feature() -> str:
    """An incident's stored feature (incident_features, kept by the database as the rows
    change: the text OGC pages serve), or the same feature built when it is missing. Needs
    `LEFT JOIN incident_features s ON s.incident_id = i.id`."""
    return f"coalesce(s.feature, ({incident_feature()})::text)"


def stored_feature_of(incident_id: str) -> str:
    """The stored feature of the incident `incident_id` (SQL) names, built when missing:
    the incident's row is read only then. Needs `incident_features s` joined as in
    stored_feature."""
    built = (
        f"(SELECT ({incident_feature()})::text FROM incidents i "  # noqa: S608
        f"JOIN borders b ON b.id = i.border_id WHERE i.id = {incident_id})"
    )
    return f"coalesce(s.feature, {built})"


def with_last_property(feature: str, name: str, value: str) -> str:
    """`feature` (SQL for a feature's JSON text) with the property `name` = `value` (SQL of a
    JSON value) spliced in last: the text ends with the properties' and the feature's
    closing braces. Cheaper than building the feature or merging as jsonb."""
    return f"""left({feature}, -2) || ',"{name}":' || ({value})::text || '}}}}'"""


def visibility(caller: Caller) -> Sql:
    """Officers and reporters see their province's incidents; admins and analysts all."""
    if caller.role in (Role.admin, Role.analyst):
        return TRUE
    return Sql("i.province_code = :scope_province", {"scope_province": caller.province_code})


def require_visible(caller: Caller, province_code: str | None, incident_id: object) -> None:
    """An incident the caller cannot see is not found, whatever it asks of it (a write
    answering 403 would tell another province's officer that the id exists)."""
    scope = read_scope(caller)
    if scope is not None and province_code != scope:
        raise NotFound(f"no incident {incident_id}")


async def require_visible_id(session: AsyncSession, caller: Caller, incident_id: uuid.UUID) -> None:
    """404 unless the incident exists and the caller may see it."""
    found = (
        await session.execute(
            text("SELECT province_code FROM incidents WHERE id = :id"), {"id": incident_id}
        )
    ).first()
    if found is None:
        raise NotFound(f"no incident {incident_id}")
    require_visible(caller, found[0], incident_id)


@dataclass
class IncidentFilter:
    border: str | None = None
    province: str | None = None
    district: str | None = None
    categories: list[str] = field(default_factory=list)
    statuses: list[str] = field(default_factory=list)
    severities: list[str] = field(default_factory=list)
    occurred_since: datetime | None = None
    occurred_until: datetime | None = None
    bbox: tuple[float, float, float, float] | None = None
    near: tuple[float, float] | None = None  # lon, lat
    within_m: float | None = None
    zone: str | None = None
    crosses_line: bool | None = None
    range_wkb: str | None = None  # a stretch of line (hex WKB), with within_m
    q: str | None = None  # already folded
    tags: list[str] = field(default_factory=list)


def where_clause(f: IncidentFilter, caller: Caller) -> Sql:
    # Only fixed fragments; every value is bound.
    clauses = [visibility(caller)]
    if f.border:
        clauses.append(Sql("b.code = :border", {"border": f.border.upper()}))
    if f.province:
        clauses.append(Sql("i.province_code = :province", {"province": f.province}))
    if f.district:
        clauses.append(Sql(":district = ANY(i.district_codes)", {"district": f.district}))
    if f.categories:
        clauses.append(Sql("i.category = ANY(:categories)", {"categories": f.categories}))
    if f.statuses:
        clauses.append(Sql("i.status = ANY(:statuses)", {"statuses": f.statuses}))
    if f.severities:
        clauses.append(Sql("i.severity = ANY(:severities)", {"severities": f.severities}))
    if f.occurred_since:
        clauses.append(Sql("i.occurred_at >= :since", {"since": f.occurred_since}))
    if f.occurred_until:
        clauses.append(Sql("i.occurred_at < :until", {"until": f.occurred_until}))
    if f.bbox:
        # The numbers are written out (envelope_sql): the planner sees the box.
        clauses.append(Sql(f"i.geom && {envelope_sql(*f.bbox)}"))
    if f.near is not None:
        clauses.append(
            Sql(
                "ST_DWithin(i.geom::geography, "
                "ST_SetSRID(ST_MakePoint(:near_lon, :near_lat), 4326)::geography, :within_m)",
                {"near_lon": f.near[0], "near_lat": f.near[1], "within_m": f.within_m},
            )
        )
    if f.range_wkb is not None:
        clauses.append(
            Sql(
                "ST_DWithin(i.geom::geography, ST_GeomFromWKB(decode(:range_wkb, 'hex'), 4326)"
                "::geography, :range_within_m)",
                {"range_wkb": f.range_wkb, "range_within_m": f.within_m},
            )
        )
    if f.zone:
        clauses.append(Sql("i.zones @> ARRAY[CAST(:zone AS varchar)]", {"zone": f.zone}))
    if f.crosses_line is not None:
        clauses.append(Sql("i.crosses_line = :crosses", {"crosses": f.crosses_line}))
    if f.q:
        clauses.append(Sql("i.search_text LIKE :q", {"q": containing(f.q)}))
    if f.tags:
        clauses.append(Sql("i.tags @> CAST(:tags AS varchar[])", {"tags": f.tags}))
    return Sql.all(clauses)


async def list_incidents(
    session: AsyncSession, f: IncidentFilter, *, caller: Caller, limit: int, after: list[Any] | None
) -> Page:
    """Newest first, or nearest first when `near` is given (with `distance_m`). Keyset
    paging on (occurred_at, id) or (distance, id): stable while others insert."""
    where = where_clause(f, caller)
    if f.near is not None:
        point = "ST_SetSRID(ST_MakePoint(:near_lon, :near_lat), 4326)::geography"
        distance = f"ST_Distance(i.geom::geography, {point})"
        if after is not None:
            where &= Sql(
                "(d, i.id) > (CAST(:k0 AS float8), CAST(:k1 AS uuid))",
                {"k0": after[0], "k1": after[1]},
            )
        distance_m = "round(t.d::numeric, 1)"
        stored = stored_feature_of("t.id")
        feature = f"({with_last_property(stored, 'distance_m', distance_m)})::json"

        def rows(incidents: str) -> str:
            return f"""{incidents} i CROSS JOIN LATERAL (SELECT {distance} AS d) dist
              JOIN borders b ON b.id = i.border_id"""

        # Nearest first without measuring every match (around a busy gate, tens of
        # thousands of incidents lie within 2 km, to keep 10).
        # - Where the statistics expect at most NEAR_MEASURE_ALL_AT_MOST incidents in the
        #   circle's box, or none of the ways below applies: every match in the circle is
        #   measured and sorted ('all').
        # - Else the index gives the incidents nearest first on the sphere (`<->`), and the
        #   nearest thousand or more are read (near_scan) and filtered. With at least
        #   limit + 1 matches among them, the page is among the matches within SPHERE_SLACK
        #   of the (limit+1)-th (see there), measured and sorted ('within'). With fewer,
        #   when no other incident lies in the circle, those are the page ('knn'). Fewer
        #   out of a circle with more (a rare filter) is 'all': a nearest-first scan for a
        #   few matches among thousands costs more.
        # Each way is a branch with a one-time filter; features are built for the page alone.
        box = (
            f"ST_Expand(ST_SetSRID(ST_MakePoint(:near_lon, :near_lat), 4326), "
            f"{SPHERE_SLACK} * :within_m / (111320.0 * cos(radians(CAST(:near_lat AS float8)))), "
            f"{SPHERE_SLACK} * :within_m / 111320.0)"
        )
        sql = f"""
        WITH gate AS MATERIALIZED (
          SELECT bordermark_few_match('incidents', 'geom', {box}, {NEAR_MEASURE_ALL_AT_MOST})
                   AS few
        ),
        nearest AS MATERIALIZED (
          -- No other condition: with one, the planner's estimate led it to sort a bitmap
          -- scan of the whole circle instead.
          SELECT i.*, i.geom::geography <-> {point} AS sphere FROM incidents i
          WHERE NOT (SELECT few FROM gate)
          ORDER BY i.geom::geography <-> {point} LIMIT :near_scan
        ),
        knn AS MATERIALIZED (
          SELECT i.id, i.sphere, d FROM {rows("nearest")}
          WHERE i.sphere <= :within_m * {SPHERE_SLACK} AND {where.text}
          ORDER BY i.sphere LIMIT :limit_plus_one
        ),
        reach AS MATERIALIZED (
          SELECT CASE WHEN (SELECT few FROM gate) THEN 'all'
                      WHEN count(*) > :limit THEN 'within'
                      WHEN (SELECT count(*) < :near_scan OR max(sphere) > :within_m * {SPHERE_SLACK}
                            FROM nearest) THEN 'knn'
                      ELSE 'all' END AS way,
                 max(sphere) * {SPHERE_SLACK} + 0.01 AS metres
          FROM knn
        ),
        matched AS (
          SELECT k.id, k.d FROM knn k WHERE (SELECT way = 'knn' FROM reach)
          UNION ALL
          SELECT i.id, d FROM {rows("incidents")}
          WHERE (SELECT way = 'within' FROM reach) AND {where.text}
            AND ST_DWithin(i.geom::geography, {point}, (SELECT metres FROM reach), false)
          UNION ALL
          SELECT i.id, d FROM {rows("incidents")}
          WHERE (SELECT way = 'all' FROM reach) AND {where.text}
        ),
        top AS MATERIALIZED (
          SELECT id, d FROM matched ORDER BY d, id LIMIT :limit_plus_one
        ),
        page AS (
          SELECT {feature} AS feature, json_build_array(t.d, t.id) AS sort_key,
                 row_number() OVER (ORDER BY t.d, t.id) AS rn
          FROM top t LEFT JOIN incident_features s ON s.incident_id = t.id
        )
        """  # noqa: S608
        near_scan = min(max(NEAR_SCAN_MIN, NEAR_SCAN_PER_ROW * (limit + 1)), NEAR_SCAN_MAX)
        where = where.bind(near_scan=near_scan)
    else:
        if after is not None:
            where &= Sql(
                "(i.occurred_at, i.id) < (CAST(:k0 AS timestamptz), CAST(:k1 AS uuid))",
                {"k0": after[0], "k1": after[1]},
            )
        # The page's keys first, then their stored features: a kilobyte a row through a
        # parallel plan's queue costs more than the plan saves.
        sql = f"""
        WITH keys AS MATERIALIZED (
          SELECT i.id, i.occurred_at FROM incidents i JOIN borders b ON b.id = i.border_id
          WHERE {where.text}
          ORDER BY i.occurred_at DESC, i.id DESC LIMIT :limit_plus_one
        ),
        page AS (
          SELECT ({stored_feature_of("k.id")})::json AS feature,
                 json_build_array(k.occurred_at, k.id) AS sort_key,
                 row_number() OVER (ORDER BY k.occurred_at DESC, k.id DESC) AS rn
          FROM keys k LEFT JOIN incident_features s ON s.incident_id = k.id
        )
        """  # noqa: S608
    return await fetch_page(session, sql, where.params, limit=limit)


async def incident_feature_json(
    session: AsyncSession,
    incident_id: uuid.UUID,
    *,
    caller: Caller,
    similar: SimilarSettings | None = None,
) -> tuple[str, int]:
    """One incident with its attachments; 404 also when it is outside the caller's area.
    With `similar`, the feature also lists them (a top-level "similar", as similar() gives
    them), read by the same statement: every POST answers with both, and a round trip
    costs the service and PostgreSQL more than this read's own work."""
    scope = visibility(caller).bind(id=incident_id)
    listed = (
        f", (SELECT coalesce(json_agg(s.feature::json ORDER BY s.distance, s.id), '[]'::json) "  # noqa: S608
        f"FROM ({_similar_sql(similar, scope.text)}) s)::text"
        if similar is not None
        else ""
    )
    attachments = (
        "coalesce((SELECT jsonb_agg(jsonb_build_object("
        "'sha256', a.sha256, 'filename', ia.filename, 'media_type', a.media_type, "
        "'size_bytes', a.size_bytes, 'uploaded_at', ia.uploaded_at, 'uploaded_by', ia.uploaded_by) "
        "ORDER BY ia.uploaded_at) FROM incident_attachments ia "
        "JOIN attachments a ON a.sha256 = ia.sha256 WHERE ia.incident_id = i.id), '[]'::jsonb)"
    )
    # The stored feature with the attachments spliced in as its last property: cheaper,
    # on the answer to every POST, than building the feature or merging as jsonb.
    feature = with_last_property(stored_feature(), "attachments", attachments)
    row = await fetch_row(
        session,
        f"SELECT {feature}, i.version{listed} FROM incidents i "  # noqa: S608
        f"JOIN borders b ON b.id = i.border_id "
        f"LEFT JOIN incident_features s ON s.incident_id = i.id WHERE i.id = :id AND {scope.text}",
        scope.params,
    )
    if row is None:
        raise NotFound(f"no incident {incident_id}")
    served = str(row[0])
    return (served if similar is None else f'{served[:-1]},"similar":{row[2]}}}'), int(row[1])


async def history(
    session: AsyncSession, incident_id: uuid.UUID, *, caller: Caller
) -> list[dict[str, Any]]:
    await incident_feature_json(session, incident_id, caller=caller)  # 404 when not visible
    rows = await session.execute(
        text(
            "SELECT json_build_object('at', at, 'actor', actor_name, 'action', action, "
            "'changes', changes, 'note', note, 'document_ref', document_ref, "
            "'effective_at', coalesce(effective_at, at))::text "
            "FROM incident_history WHERE incident_id = :id ORDER BY id"
        ),
        {"id": incident_id},
    )
    return [json.loads(r[0]) for r in rows]


@dataclass(frozen=True)
class SimilarSettings:
    within_m: float = 200.0
    within_days: int = 14


async def similar(
    session: AsyncSession, incident_id: uuid.UUID, *, caller: Caller, settings: SimilarSettings
) -> list[dict[str, Any]]:
    """Open incidents of the same category within `within_m` and `within_days` of this one:
    the likely duplicates an officer may dismiss. Every POST answers with them, so the
    statement reads only the incidents (no join to borders), and the open states, the
    distance and the days are constants in its text (code and settings, never input), so
    PostgreSQL keeps one generic plan for it. It reads the open incidents' own spatial
    index (ix_incidents_open_geog, whose predicate it repeats)."""
    scope = visibility(caller).bind(id=incident_id)
    rows = await fetch_rows(session, _similar_sql(settings, scope.text), scope.params)
    return [json.loads(r[0]) for r in rows]


@functools.lru_cache(maxsize=8)
def _similar_sql(settings: SimilarSettings, scope: str) -> str:
    within_m, within_days = float(settings.within_m), int(settings.within_days)
    assert math.isfinite(within_m)  # settings bound it (config.py)
    return f"""
        SELECT json_build_object('id', i.id, 'title', i.title, 'status', i.status,
                 'occurred_at', i.occurred_at, 'category', i.category,
                 'distance_m', round(d.distance::numeric, 1))::text AS feature,
               d.distance, i.id
        FROM incidents me
        JOIN incidents i ON i.id <> me.id AND i.category = me.category
          AND i.status IN {OPEN_STATUS_LIST_SQL}
          AND i.occurred_at BETWEEN me.occurred_at - make_interval(days => {within_days})
                                AND me.occurred_at + make_interval(days => {within_days})
          AND ST_DWithin(i.geom::geography, me.geom::geography, {within_m!r}),
        LATERAL (SELECT ST_Distance(i.geom::geography, me.geom::geography) AS distance) d
        WHERE me.id = :id AND {scope}
        ORDER BY d.distance, i.id
        LIMIT 20
        """  # noqa: S608

"""Spatial context of incidents, computed in PostGIS in one statement for a set of ids.

For each incident: the border's nearest marker (geodesic metres), its chainage
(`1089+230`: where a line event meets the border or starts along it, else the line's
point closest to the event), its distance from the line, its side (a country,
`on_line`, or `crossing`), the province, district and commune valid when it happened (Vietnam's
calendar day), the zones it reaches (per the border's zone settings; the sightline
corridor takes a segment's override), for lines and polygons the length or area inside
each zone and on the far side, and the agreement articles its category may breach there
(breach_rules, with exemption tags). Recomputed when geometry, category or zones change.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from app.areas.placement import UNIT_REACH_M, reach_box, unit_at, valid_on
from app.db import cached_text
from app.timestamps import LOCAL_TIME_ZONE

# An event this close to the line is on it (GPS error is metres anyway).
ON_LINE_M = 1.0
# Pieces smaller than this (metres or square metres) do not count for a side: noise
# where a fence runs along the line.
PIECE_NOISE = 1.0
# A distance in degrees overstates metres east-west less than north-south, by the cosine of
# the latitude: 1.09 at 23.4 N, Vietnam's northernmost border point. Of two pieces of the
# line, one farther than 1.15 times the other in degrees cannot be the nearer on the ground.
DEGREE_SLACK = 1.15


def _unit_at(level: str, within: str = "TRUE") -> str:
    """The unit of `level` valid on the event's day, by the one placement rule."""
    return unit_at(
        level, geom="l.g", day="l.day", gtype="l.gtype", box="l.reach_box", within=within
    )


def _target(source: str, key: str, geom: str, occurred_at: str) -> str:
    """The events to place: `key` (an incident id, or a row number of a batch), geometry,
    category, tags, border and the event's Vietnam calendar day, beside their border."""
    return f"""
target AS MATERIALIZED (
  SELECT {key} AS id, {geom} AS g, e.category, e.tags, e.nature, e.border_id,
         ({occurred_at} AT TIME ZONE '{LOCAL_TIME_ZONE}')::date AS day,
         b.geom AS line, b.measured_geom AS mline, b.left_region,
         -- +1 when Vietnam lies on the line's left, -1 on its right
         CASE WHEN b.left_country = 'VN' THEN 1 ELSE -1 END AS vn_sign,
         b.left_country, b.right_country,
         GeometryType({geom}) AS gtype
  FROM {source} JOIN borders b ON b.id = e.border_id
),"""  # noqa: S608


# Why a rule is suggested, said in the incident: its category, the zone it lies in (or
# anywhere for a zone-free rule), that it is an act and no tag exempts it.
_BREACH_WHY = (
    "CASE WHEN r.zone_code IS NULL THEN format('a %s act, anywhere on the border', l.category) "
    "ELSE format('a %s act inside %s; no exempting tag', l.category, r.zone_code) END"
)

_CONTEXT = f"""
located AS MATERIALIZED (
  SELECT t.*, near.dist, near.part, near.mpart,
    -- Chainage: where a line event first meets the border; for one that does not meet it,
    -- the lesser of its two ends'; else the line's point closest to the event.
    CASE WHEN t.gtype = 'LINESTRING' AND ST_Intersects(t.g, t.line) THEN
           (SELECT min(ST_InterpolatePoint(t.mline, dp.geom))
            FROM ST_DumpPoints(ST_Intersection(t.g, t.line)) dp)
         WHEN t.gtype = 'LINESTRING' THEN least(
           ST_InterpolatePoint(t.mline, ST_ClosestPoint(t.line, ST_StartPoint(t.g))),
           ST_InterpolatePoint(t.mline, ST_ClosestPoint(t.line, ST_EndPoint(t.g))))
         -- Else off the piece of the line nearest the event (a piece has a few dozen
         -- vertices; the whole line, hundreds).
         ELSE ST_InterpolatePoint(near.mpart, ST_ClosestPoint(near.part, t.g)) END AS m,
    -- Computed once for the three levels the event is placed at (placement.reach_box).
    {reach_box("t.g")} AS reach_box
  FROM target t,
  -- The nearest piece of the line in geodesic metres. Geodesic distances cost most of
  -- this statement, so only the pieces that could be nearest get one: those within
  -- DEGREE_SLACK of the nearest in degrees (see there).
  LATERAL (SELECT ST_Distance(p.geom::geography, t.g::geography) AS dist,
                  p.geom AS part, p.measured_geom AS mpart
           FROM (SELECT k.*, min(k.degrees) OVER () AS nearest_degrees
                 FROM (SELECT bp.geom, bp.measured_geom, bp.geom <-> t.g AS degrees
                       FROM border_parts bp WHERE bp.border_id = t.border_id
                       ORDER BY bp.geom <-> t.g LIMIT 3) k) p
           WHERE p.degrees <= p.nearest_degrees * {DEGREE_SLACK}
           ORDER BY 1 LIMIT 1) near
),
band AS MATERIALIZED (
  -- The line itself, widened to ON_LINE_M: what lies in it is on the line, not on a side
  -- (coordinates travel rounded to 1 cm, so a fence along the line wobbles across it).
  -- Points take their side from the line's orientation (side_summary): no band, no cut.
  SELECT l.id, CASE WHEN l.gtype NOT IN ('POINT', 'MULTIPOINT') THEN
               (SELECT ST_Buffer(ST_Union(bp.geom)::geography, {ON_LINE_M})::geometry
                FROM border_parts bp
                WHERE bp.border_id = l.border_id
                  AND ST_DWithin(bp.geom::geography, l.g::geography, {ON_LINE_M})) END AS band
  FROM located l
),
sides AS MATERIALIZED (
  -- The event cut by the line's left region (an overlay: robust where the event runs
  -- along the line, where ST_Split refuses to cut), less the band along the line.
  SELECT l.id,
    coalesce(ST_Difference(raw.far, bd.band), raw.far) AS far_part,
    coalesce(ST_Difference(raw.near, bd.band), raw.near) AS vn_part
  FROM located l JOIN band bd ON bd.id = l.id,
  LATERAL (SELECT
    CASE WHEN l.gtype IN ('POINT', 'MULTIPOINT') THEN NULL
         WHEN l.vn_sign = 1 THEN ST_Difference(l.g, l.left_region)
         ELSE ST_Intersection(l.g, l.left_region) END AS far,
    CASE WHEN l.gtype IN ('POINT', 'MULTIPOINT') THEN NULL
         WHEN l.vn_sign = 1 THEN ST_Intersection(l.g, l.left_region)
         ELSE ST_Difference(l.g, l.left_region) END AS near) raw
),
side_summary AS MATERIALIZED (
  SELECT l.id, far.measure AS far_measure, total.measure AS total_measure,
    CASE WHEN l.gtype IN ('POINT', 'MULTIPOINT') THEN point_side.s * l.vn_sign > 0
         ELSE vn.measure > {PIECE_NOISE} END AS on_vn,
    CASE WHEN l.gtype IN ('POINT', 'MULTIPOINT') THEN point_side.s * l.vn_sign < 0
         ELSE far.measure > {PIECE_NOISE} END AS on_far
  FROM located l JOIN sides sd ON sd.id = l.id,
  -- A point's side is the line's orientation where it passes closest: the nearest piece
  -- holds that place (a multipoint may face several pieces: the whole line).
  LATERAL (SELECT CASE WHEN l.gtype = 'POINT' THEN bordermark_side_of_line(l.part, l.g)
                       WHEN l.gtype = 'MULTIPOINT'
                       THEN bordermark_side_of_line(l.line, ST_PointOnSurface(l.g)) END AS s
          ) point_side,
  LATERAL (SELECT bordermark_measure(l.g) AS measure) total,
  LATERAL (SELECT coalesce(bordermark_measure(sd.far_part), 0) AS measure) far,
  LATERAL (SELECT coalesce(bordermark_measure(sd.vn_part), 0) AS measure) vn
),
zone_width AS MATERIALIZED (
  SELECT l.id, z.code,
    CASE WHEN z.code = 'sightline_corridor' THEN coalesce(
      -- Segments run marker to marker without overlapping: the ones holding m are the
      -- last one or two to start at or before it (read backwards on the index), the first
      -- of them where two meet at m.
      (SELECT s.sightline_width_m
       FROM (SELECT s.start_m, s.end_m, s.sightline_width_m FROM segments s
             WHERE s.border_id = l.border_id AND s.start_m <= l.m
             ORDER BY s.start_m DESC LIMIT 2) s
       WHERE l.m <= s.end_m ORDER BY s.start_m LIMIT 1), z.distance_m)
    ELSE z.distance_m END AS width
  FROM located l JOIN border_zones z ON z.border_id = l.border_id
),
zone_eval AS MATERIALIZED (
  SELECT w.id, w.code, w.width,
    CASE WHEN l.dist > w.width OR l.gtype IN ('POINT', 'MULTIPOINT') THEN NULL
    ELSE (
      SELECT bordermark_measure(ST_Intersection(l.g, c.corridor))
      FROM (SELECT ST_Buffer(ST_Union(bp.geom)::geography, w.width)::geometry AS corridor
            FROM border_parts bp
            WHERE bp.border_id = l.border_id
              AND ST_DWithin(bp.geom::geography, l.g::geography, w.width)) c)
    END AS measure,
    l.dist <= w.width AS inside
  FROM zone_width w JOIN located l ON l.id = w.id
),
zone_summary AS MATERIALIZED (
  SELECT id,
    coalesce(array_agg(code ORDER BY width) FILTER (WHERE inside), '{{}}') AS zones,
    coalesce(jsonb_object_agg(code, jsonb_build_object('width_m', width,
        'inside', inside, 'measure', round(measure::numeric, 1)))
      FILTER (WHERE code IS NOT NULL), '{{}}') AS measures
  FROM zone_eval GROUP BY id
),
units AS MATERIALIZED (
  SELECT l.id,
    {_unit_at("province")} AS province,
    {_unit_at("district")} AS district,
    coalesce((SELECT array_agg(u.code ORDER BY u.code) FROM admin_units u
     WHERE u.level = 'district' AND {valid_on("l.day")}
       AND ST_Intersects(u.geom, l.g)), '{{}}') AS districts
  FROM located l
),
communes AS MATERIALIZED (
  -- A commune of the event's district while there were districts, so the two agree.
  SELECT l.id, {_unit_at("commune", "(d.district IS NULL OR u.parent_code = d.district)")}
    AS commune
  FROM located l JOIN units d ON d.id = l.id
),
nearest AS MATERIALIZED (
  -- The nearest marker on the ground is among those within DEGREE_SLACK of the nearest in
  -- degrees: two planar index probes, then geodesic metres for those few.
  SELECT l.id, n.code, n.d
  FROM located l,
  LATERAL (SELECT mk.geom <-> l.g AS degrees FROM markers mk
           WHERE mk.border_id = l.border_id ORDER BY mk.geom <-> l.g LIMIT 1) first,
  LATERAL (
    SELECT c.code, ST_Distance(c.geom::geography, l.g::geography) AS d
    FROM markers c
    WHERE c.border_id = l.border_id AND ST_DWithin(c.geom, l.g, first.degrees * {DEGREE_SLACK})
    ORDER BY 2, c.code LIMIT 1) n
),
counted_from AS MATERIALIZED (
  SELECT l.id, f.code, greatest(l.m - f.chainage_m, 0) AS offset_m
  FROM located l,
  LATERAL (
    SELECT mk.code, mk.chainage_m FROM markers mk
    WHERE mk.border_id = l.border_id AND mk.chainage_m <= l.m + 0.5
    ORDER BY mk.chainage_m DESC, mk.number DESC, mk.aux_index DESC, mk.bank_index DESC
    LIMIT 1) f
),
breach AS MATERIALIZED (
  SELECT l.id,
    coalesce(jsonb_agg(jsonb_build_object('article', r.article, 'zone', r.zone_code,
                                          'summary', r.summary,
                                          'why', {_BREACH_WHY})
                       ORDER BY r.article, r.zone_code) FILTER (WHERE r.id IS NOT NULL),
             '[]') AS breaches
  FROM located l
  JOIN zone_summary zs ON zs.id = l.id
  LEFT JOIN breach_rules r ON r.border_id = l.border_id AND r.category = l.category
       AND (r.zone_code IS NULL OR r.zone_code = ANY(zs.zones))
       AND NOT (r.exempt_tags && l.tags)
       -- Only acts breach the agreement: not a request for approval, an approved work
       -- or a wildfire (app/cases/breaches.py explains each rule it did not apply).
       AND l.nature = 'act'
  GROUP BY l.id
),
final AS MATERIALIZED (
  SELECT l.id, l.dist, l.m, ss.on_vn, ss.on_far,
    CASE WHEN ss.on_vn AND ss.on_far THEN 'crossing'
         WHEN l.dist < {ON_LINE_M} THEN 'on_line'
         WHEN ss.on_far THEN CASE WHEN l.vn_sign = 1 THEN l.right_country ELSE l.left_country END
         ELSE 'VN' END AS side,
    jsonb_build_object(
      'unit', CASE WHEN l.gtype LIKE '%LINESTRING' THEN 'm'
                   WHEN l.gtype LIKE '%POLYGON' THEN 'm2' END,
      'total', CASE WHEN l.gtype NOT LIKE '%POINT' THEN round(ss.total_measure::numeric, 1) END,
      'far_side', CASE WHEN l.gtype NOT LIKE '%POINT' THEN round(ss.far_measure::numeric, 1) END,
      'zones', zs.measures) AS zone_measures,
    zs.zones, u.province, u.district, u.districts, c.commune,
    n.code AS nearest_code, n.d AS nearest_d,
    CASE WHEN cf.code IS NULL THEN NULL
         WHEN round(cf.offset_m) = 0 THEN cf.code
         ELSE cf.code || '+' || round(cf.offset_m)::bigint END AS chainage_ref,
    b.breaches
  FROM located l
  JOIN side_summary ss ON ss.id = l.id
  JOIN zone_summary zs ON zs.id = l.id
  JOIN units u ON u.id = l.id
  JOIN communes c ON c.id = l.id
  JOIN breach b ON b.id = l.id
  LEFT JOIN nearest n ON n.id = l.id
  LEFT JOIN counted_from cf ON cf.id = l.id
)
"""  # noqa: S608

# The columns the context fills, and their value from `final`.
CONTEXT_COLUMNS = {
    "distance_to_line_m": "f.dist",
    "chainage_m": "f.m",
    "chainage_ref": "f.chainage_ref",
    "side": "f.side",
    "crosses_line": "(f.on_vn AND f.on_far)",
    "zones": "f.zones",
    "zone_measures": "f.zone_measures",
    "province_code": "f.province",
    "district_code": "f.district",
    "district_codes": "CASE WHEN cardinality(f.districts) = 0 AND f.district IS NOT NULL "
    "THEN ARRAY[f.district] ELSE f.districts END",
    "commune_code": "f.commune",
    "nearest_marker_code": "f.nearest_code",
    "nearest_marker_distance_m": "f.nearest_d",
    "breaches": "f.breaches",
}

# The CTEs that place the stored incidents of `:ids` (`final` holds their context by id);
# bench/context_cost.py times them part by part.
CONTEXT_OF_IDS = (
    "WITH "  # noqa: S608
    + _target(
        "(SELECT * FROM incidents WHERE id = ANY(CAST(:ids AS uuid[]))) e",
        "e.id",
        "e.geom",
        "e.occurred_at",
    )
    + _CONTEXT
)

_CONTEXT_SQL = (
    CONTEXT_OF_IDS  # noqa: S608
    + "UPDATE incidents i SET "
    + ", ".join(f"{column} = {value}" for column, value in CONTEXT_COLUMNS.items())
    + " FROM final f WHERE i.id = f.id"
)


def with_context(given: str, *, key: str, geom: str, occurred_at: str) -> str:
    """The CTEs that place the rows of `given` (a CTE of new incidents, with the columns
    category, tags and border_id): `final` holds their context by `key`. An INSERT then
    stores each row with its context in one statement, with no UPDATE after it."""
    return "WITH " + given + "," + _target("given e", key, geom, occurred_at) + _CONTEXT


async def compute_context(session: AsyncSession, ids: Sequence[uuid.UUID]) -> None:
    if ids:
        await session.execute(
            cached_text(_CONTEXT_SQL), {"ids": [str(i) for i in ids], "reach": UNIT_REACH_M}
        )


async def recompute_border(session: AsyncSession, border_id: int) -> int:
    """Recompute every incident of a border (after its zones changed). Does not commit."""
    rows = await session.execute(
        text("SELECT id FROM incidents WHERE border_id = :b"), {"b": border_id}
    )
    ids = [r[0] for r in rows]
    # In chunks: one statement per few hundred keeps memory and lock time bounded.
    for start in range(0, len(ids), 500):
        await compute_context(session, ids[start : start + 500])
    return len(ids)


async def recompute_all_and_commit(session: AsyncSession) -> int:
    """Recompute every incident of every border, one border per transaction: after units
    were loaded or changed outside the API, or a migration added to the context."""
    borders = (await session.execute(text("SELECT id FROM borders ORDER BY id"))).scalars().all()
    count = 0
    for border_id in borders:
        count += await recompute_border(session, border_id)
        await session.commit()
    return count

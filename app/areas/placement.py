"""The one rule that puts anything on the line in a unit: markers, incidents, works and
their stretches, approvals, and the line's own pieces when a province's share of it is
measured.

Of the units of a level valid on a day, the one the thing lies in (of several, the one
holding the larger share of it); else the one whose edge it touches (a marker or a
chainage report stands on the line, which is the units' edge, give or take the last bit of
a float); else the nearest within UNIT_REACH_M: the far side of the line faces a unit, and
the demo's units (Voronoi cells cut to a radius) leave gaps along it.

Before this rule markers took the nearest province within 1 km and works the nearest
district within 5 km, so the two disagreed about the same stretch (issue 27)."""

from __future__ import annotations

# Events on the far side of the line still belong to the facing unit within this reach.
UNIT_REACH_M = 5_000.0
# About a centimetre in degrees: the slack of a point on a unit's edge.
EDGE_SLACK_DEGREES = 1e-7


def reach_box(geom: str, reach: str = ":reach") -> str:
    """SQL: a box in degrees holding everything within `reach` metres of `geom`, for the
    spatial index to drop far units before any geodesic distance (a degree of longitude
    shrinks with latitude, hence the cosine, a degree nearer the pole; 10 % margin)."""
    return f"""ST_Expand({geom}, {reach} * 1.1 / (111320.0 * cos(radians(least(89.0,
      greatest(abs(ST_YMin({geom})), abs(ST_YMax({geom}))) + 1.0)))))"""


def valid_on(day: str, alias: str = "u") -> str:
    """SQL: unit `alias` is valid on `day` (an SQL date expression)."""
    return f"{alias}.valid_from <= {day} AND ({alias}.valid_to IS NULL OR {alias}.valid_to > {day})"


def unit_at(
    level: str,
    *,
    geom: str,
    day: str,
    gtype: str = "'POINT'",
    reach: str = ":reach",
    box: str | None = None,
    within: str = "TRUE",
) -> str:
    """SQL for the code of the unit of `level` (a level name from the code, never input)
    that `geom` (an SQL expression, SRID 4326) lies in on `day` (an SQL date), by the rule
    above. `gtype` is the geometry's GeometryType (points skip the share overlays, which
    are nothing for them); `reach` binds UNIT_REACH_M; `box` is reach_box(geom) when the
    caller computed it once for several levels (else it is computed here); `within`
    narrows the candidates (a commune among the district's)."""
    valid = f"u.level = '{level}' AND {valid_on(day)} AND {within}"
    share = f"""CASE WHEN {gtype} IN ('POINT', 'MULTIPOINT') THEN 0
                   ELSE ST_Area(ST_Intersection(u.geom, {geom})::geography) END DESC,
              CASE WHEN {gtype} IN ('POINT', 'MULTIPOINT') THEN 0
                   ELSE ST_Length(ST_Intersection(u.geom, {geom})::geography) END DESC,
              u.code"""
    boxed = f"AND u.geom && {box or reach_box(geom, reach)}"
    return f"""coalesce(
    (SELECT u.code FROM admin_units u
     WHERE {valid} AND ST_Intersects(u.geom, {geom})
     ORDER BY {share} LIMIT 1),
    (SELECT u.code FROM admin_units u
     WHERE {valid} AND ST_DWithin(u.geom, {geom}, {EDGE_SLACK_DEGREES})
     ORDER BY ST_Distance(u.geom, {geom}), {share} LIMIT 1),
    (SELECT u.code FROM admin_units u
     WHERE {valid} {boxed}
       AND ST_DWithin(u.geom::geography, ({geom})::geography, {reach})
     ORDER BY ST_Distance(u.geom::geography, ({geom})::geography), {share}
     LIMIT 1))"""  # noqa: S608


def reporting_unit(*, geom: str, day: str, gtype: str = "'POINT'") -> str:
    """SQL for the unit a summary counts a thing in on `day`: its district while there were
    districts, else its commune, else its province, else 'unassigned' (as incidents are
    counted: their district, commune or province)."""
    at = {"geom": geom, "day": day, "gtype": gtype}
    levels = ", ".join(unit_at(level, **at) for level in ("district", "commune", "province"))
    return f"coalesce({levels}, 'unassigned')"

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from app.areas.placement import EDGE_SLACK_DEGREES
from app.auth.caller import Caller
from app.auth.models import Role
from app.db import fetch_rows
from app.errors import Forbidden

# A unit's reach beyond its polygon: events on the far side of the line, facing it,
# belong to its officers and border posts too.
AREA_REACH_M = 5_000.0


# A geometry is checked at its vertices and at points along its edges at most this far
# apart, so a line that leaves the area between two vertices is seen leaving it.
EDGE_STEP_M = 1_000.0


async def geometries_within_unit(
    session: AsyncSession,
    *,
    code: str,
    level: str,
    wkb_hexes: Sequence[str],
    reach_m: float = AREA_REACH_M,
) -> list[bool]:
    """Whether each geometry lies wholly in the unit's latest polygon (districts keep their
    last shape after the 2025 reform, so a district-scoped unit keeps its area) or within
    its reach beyond it where no other unit of its level is: the far side of the line,
    facing it. Not into the next district or province, whose events are stored there, out
    of the caller's sight (a Lạng Sơn officer's point 2 km inside Cao Bằng was). Whole, not
    in part: a line from one's own district into the next belongs to neither's reporter
    alone. A point on a unit's edge (the line is one) counts as in it, within the centimetre
    of the placement rule: a point on the line in the next unit is the next unit's. One
    statement for them all."""
    if not wkb_hexes:
        return []
    rows = await fetch_rows(
        session,
        """
            WITH given AS (
              SELECT g.n, ST_GeomFromWKB(decode(g.wkb, 'hex'), 4326) AS g
              FROM unnest(CAST(:wkbs AS text[])) WITH ORDINALITY AS g(wkb, n)
            ), unit AS (
              SELECT geom FROM admin_units WHERE code = :code AND level = :level
              ORDER BY valid_from DESC LIMIT 1
            )
            SELECT given.n, coalesce((
              SELECT ST_Covers(unit.geom, given.g) OR NOT EXISTS (
                SELECT 1 FROM ST_DumpPoints(
                  ST_Segmentize(given.g::geography, :step)::geometry) p
                WHERE NOT ST_DWithin(unit.geom, p.geom, :slack)
                  AND (NOT ST_DWithin(unit.geom::geography, p.geom::geography, :reach)
                       OR EXISTS (SELECT 1 FROM admin_units o
                                  WHERE o.level = :level AND o.code <> :code
                                    AND ST_DWithin(o.geom, p.geom, :slack))))
              FROM unit), false)
            FROM given ORDER BY given.n
            """,
        {
            "wkbs": list(wkb_hexes),
            "reach": reach_m,
            "slack": EDGE_SLACK_DEGREES,
            "step": EDGE_STEP_M,
            "code": code,
            "level": level,
        },
    )
    return [bool(r[1]) for r in rows]


def caller_area(caller: Caller) -> tuple[str, str] | None:
    """The (code, level) a caller acts within; None for admins (anywhere). Reporters act in
    their station's area or their district, officers in their province; any other role has
    no area to act in."""
    if caller.role is Role.admin:
        return None
    if caller.role is Role.reporter and caller.station_code:
        return caller.station_code, "station"
    if caller.role is Role.reporter and caller.district_code:
        return caller.district_code, "district"
    if caller.role is Role.officer and caller.province_code:
        return caller.province_code, "province"
    raise Forbidden(f"role {caller.role} has no area to act in")


def outside_area(what: str, area: tuple[str, str]) -> Forbidden:
    code, level = area
    return Forbidden(f"{what} lies outside this token's {level} ({code})")


async def require_area(session: AsyncSession, caller: Caller, *, wkb_hex: str, what: str) -> None:
    """Reporters act within their district, officers within their province, admins anywhere."""
    area = caller_area(caller)
    if area is None:
        return
    code, level = area
    inside = await geometries_within_unit(session, code=code, level=level, wkb_hexes=[wkb_hex])
    if not inside[0]:
        raise outside_area(what, area)

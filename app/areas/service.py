from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.caller import Caller
from app.auth.models import Role
from app.db import fetch_rows
from app.errors import Forbidden

# A unit's reach beyond its polygon: events on the far side of the line, facing it,
# belong to its officers and border posts too.
AREA_REACH_M = 5_000.0


async def geometries_near_unit(
    session: AsyncSession,
    *,
    code: str,
    level: str,
    wkb_hexes: Sequence[str],
    reach_m: float = AREA_REACH_M,
) -> list[bool]:
    """Whether each geometry lies within reach of the unit's latest polygon (districts keep
    their last shape after the 2025 reform, so a district-scoped unit keeps its area); one
    statement for them all."""
    if not wkb_hexes:
        return []
    rows = await fetch_rows(
        session,
        """
            SELECT g.n, coalesce(ST_DWithin(u.geom::geography,
                                            ST_GeomFromWKB(decode(g.wkb, 'hex'), 4326)::geography,
                                            :reach), false)
            FROM unnest(CAST(:wkbs AS text[])) WITH ORDINALITY AS g(wkb, n)
            LEFT JOIN LATERAL (
              SELECT geom FROM admin_units WHERE code = :code AND level = :level
              ORDER BY valid_from DESC LIMIT 1) u ON true
            ORDER BY g.n
            """,
        {"wkbs": list(wkb_hexes), "reach": reach_m, "code": code, "level": level},
    )
    return [bool(r[1]) for r in rows]


def caller_area(caller: Caller) -> tuple[str, str] | None:
    """The (code, level) a caller acts within; None for admins (anywhere). Reporters act in
    their district, officers in their province; any other role has no area to act in."""
    if caller.role is Role.admin:
        return None
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
    if not (await geometries_near_unit(session, code=code, level=level, wkb_hexes=[wkb_hex]))[0]:
        raise outside_area(what, area)

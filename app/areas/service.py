from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.caller import Caller
from app.auth.models import Role
from app.errors import Forbidden

# A unit's reach beyond its polygon: events on the far side of the line, facing it,
# belong to its officers and border posts too.
AREA_REACH_M = 5_000.0


async def geometry_near_unit(
    session: AsyncSession, *, code: str, level: str, wkb_hex: str, reach_m: float = AREA_REACH_M
) -> bool:
    """Whether a geometry lies within reach of the unit's latest polygon (districts keep
    their last shape after the 2025 reform, so a district-scoped unit keeps its area)."""
    found = (
        await session.execute(
            text(
                """
                SELECT ST_DWithin(u.geom::geography,
                                  ST_GeomFromWKB(decode(:wkb, 'hex'), 4326)::geography, :reach)
                FROM admin_units u WHERE u.code = :code AND u.level = :level
                ORDER BY u.valid_from DESC LIMIT 1
                """
            ),
            {"wkb": wkb_hex, "reach": reach_m, "code": code, "level": level},
        )
    ).scalar_one_or_none()
    return bool(found)


async def require_area(session: AsyncSession, caller: Caller, *, wkb_hex: str, what: str) -> None:
    """Reporters act within their district, officers within their province, admins anywhere."""
    if caller.role is Role.admin:
        return
    if caller.role is Role.reporter and caller.district_code:
        code, level = caller.district_code, "district"
    elif caller.role is Role.officer and caller.province_code:
        code, level = caller.province_code, "province"
    else:
        raise Forbidden(f"role {caller.role} has no area to act in")
    if not await geometry_near_unit(session, code=code, level=level, wkb_hex=wkb_hex):
        raise Forbidden(f"{what} lies outside this token's {level} ({code})")

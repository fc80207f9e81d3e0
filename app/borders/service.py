"""Writes to borders: the line with its geodesic measures, its subdivided parts, its zones."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from itertools import pairwise

import shapely
from pyproj import Geod
from shapely.geometry import LineString, Polygon
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from app.audit.service import record
from app.auth.caller import Caller
from app.auth.models import Role
from app.auth.scopes import require_role
from app.db import session_memo
from app.errors import InvalidInput, NotFound

WGS84_GEOD = Geod(ellps="WGS84")

# Called (in the writer's transaction) after a border's zone distances change, so later
# domains (incidents) can recompute what depends on them without borders importing them.
ZoneChangeHook = Callable[[AsyncSession, int], Awaitable[object]]
ZONE_CHANGE_HOOKS: list[ZoneChangeHook] = []


def on_zone_change(hook: ZoneChangeHook) -> None:
    if hook not in ZONE_CHANGE_HOOKS:
        ZONE_CHANGE_HOOKS.append(hook)


async def zones_changed(session: AsyncSession, border_id: int) -> None:
    for hook in ZONE_CHANGE_HOOKS:
        await hook(session, border_id)


# Vertices per subdivided part: small parts keep the geography index tight.
SUBDIVIDE_MAX_VERTICES = 32


def measured_wkt(coords: list[tuple[float, float]]) -> tuple[str, float]:
    """LINESTRING M WKT whose M is the geodesic metres from the start, and the total length."""
    measures = [0.0]
    for (lon1, lat1), (lon2, lat2) in pairwise(coords):
        _, _, dist = WGS84_GEOD.inv(lon1, lat1, lon2, lat2)
        measures.append(measures[-1] + dist)
    body = ", ".join(f"{x!r} {y!r} {m!r}" for (x, y), m in zip(coords, measures, strict=True))
    return f"LINESTRING M ({body})", measures[-1]


# How far the side region reaches from the line, in degrees. It only has to lie beyond any
# event the service accepts (30 km); it is a shape, never compared with a distance.
SIDE_REGION_REACH_DEG = 10.0


def side_region(line: LineString, *, left: bool) -> Polygon:
    """The area on one side of a line near it: the line closed far away on that side.

    Overlay with this polygon splits an event into its parts on each side robustly, even
    where the event runs along the line (where ST_Split refuses to cut).
    """
    (x0, y0), (x1, y1) = line.coords[0], line.coords[-1]
    dx, dy = x1 - x0, y1 - y0
    length = (dx * dx + dy * dy) ** 0.5
    nx, ny = (-dy / length, dx / length) if left else (dy / length, -dx / length)
    far = SIDE_REGION_REACH_DEG
    ring = [*line.coords, (x1 + nx * far, y1 + ny * far), (x0 + nx * far, y0 + ny * far)]
    region = shapely.make_valid(Polygon(ring))
    if isinstance(region, Polygon):
        return region
    polygons = [g for g in getattr(region, "geoms", []) if isinstance(g, Polygon)]
    return max(polygons, key=lambda p: p.area)


@dataclass(frozen=True)
class BorderLine:
    code: str
    name_vi: str
    name_en: str
    left_country: str
    right_country: str
    coords: list[tuple[float, float]]
    orientation: str | None = None
    official_length_km: float | None = None
    source: str | None = None
    accuracy: str | None = None


async def upsert_border(session: AsyncSession, line: BorderLine) -> int:
    """Insert or replace a border line and its parts. Does not commit (seed/import own it)."""
    if len(line.coords) < 2:
        raise InvalidInput("a border line needs at least two vertices", field="geometry")
    wkt, length_m = measured_wkt(line.coords)
    session.info.pop("memo", None)  # a remembered id or length may be this border's
    border_id: int = (
        await session.execute(
            text(
                """
                INSERT INTO borders (code, name_vi, name_en, left_country, right_country,
                    orientation, geom, measured_geom, left_region, length_m,
                    official_length_km, source, accuracy)
                VALUES (:code, :name_vi, :name_en, :left, :right, :orientation,
                    ST_Force2D(ST_GeomFromText(:wkt, 4326)), ST_GeomFromText(:wkt, 4326),
                    ST_Multi(ST_GeomFromText(:left_region, 4326)),
                    :length_m, :official, :source, :accuracy)
                ON CONFLICT (code) DO UPDATE SET
                    name_vi = EXCLUDED.name_vi, name_en = EXCLUDED.name_en,
                    left_country = EXCLUDED.left_country, right_country = EXCLUDED.right_country,
                    orientation = EXCLUDED.orientation, geom = EXCLUDED.geom,
                    measured_geom = EXCLUDED.measured_geom, left_region = EXCLUDED.left_region,
                    length_m = EXCLUDED.length_m,
                    official_length_km = EXCLUDED.official_length_km,
                    source = EXCLUDED.source, accuracy = EXCLUDED.accuracy, updated_at = now()
                RETURNING id
                """
            ),
            {
                "code": line.code,
                "name_vi": line.name_vi,
                "name_en": line.name_en,
                "left": line.left_country,
                "right": line.right_country,
                "orientation": line.orientation,
                "wkt": wkt,
                "left_region": side_region(LineString(line.coords), left=True).wkt,
                "length_m": length_m,
                "official": line.official_length_km,
                "source": line.source,
                "accuracy": line.accuracy,
            },
        )
    ).scalar_one()
    await session.execute(text("DELETE FROM border_parts WHERE border_id = :b"), {"b": border_id})
    await session.execute(
        text(
            "INSERT INTO border_parts (border_id, geom, measured_geom) "
            "SELECT b.id, p.geom, bordermark_measured_part(b.measured_geom, p.geom) "
            "FROM borders b, ST_Subdivide(b.geom, :n) AS p(geom) WHERE b.id = :b"
        ),
        {"b": border_id, "n": SUBDIVIDE_MAX_VERTICES},
    )
    return border_id


@dataclass(frozen=True)
class ZoneSetting:
    code: str
    name_vi: str
    name_en: str
    distance_m: float
    article: str | None = None
    description: str | None = None


async def upsert_zone(session: AsyncSession, *, border_id: int, zone: ZoneSetting) -> None:
    await session.execute(
        text(
            """
            INSERT INTO border_zones (border_id, code, name_vi, name_en, distance_m, article,
                description)
            VALUES (:b, :code, :name_vi, :name_en, :d, :article, :description)
            ON CONFLICT (border_id, code) DO UPDATE SET
                name_vi = EXCLUDED.name_vi, name_en = EXCLUDED.name_en,
                distance_m = EXCLUDED.distance_m, article = EXCLUDED.article,
                description = EXCLUDED.description
            """
        ),
        {"b": border_id, **zone.__dict__, "d": zone.distance_m},
    )


def unknown_border(code: str) -> NotFound:
    return NotFound(f"no border {code!r}; borders are codes such as VN-CN, VN-LA, VN-KH")


async def border_id_of(session: AsyncSession, code: str) -> int:
    async def lookup() -> int:
        found = (
            await session.execute(
                text("SELECT id FROM borders WHERE code = :c"), {"c": code.upper()}
            )
        ).scalar_one_or_none()
        if found is None:
            raise unknown_border(code)
        return int(found)

    return await session_memo(session, ("border_id", code.upper()), lookup)


async def set_zone_distance(
    session: AsyncSession,
    *,
    caller: Caller,
    border_code: str,
    zone_code: str,
    distance_m: float,
    article: str | None,
) -> None:
    """Change one zone's distance (admins: zones follow the agreements). Commits."""
    require_role(caller, Role.admin)
    border_id = await border_id_of(session, border_code)
    previous = (
        await session.execute(
            text(
                "UPDATE border_zones SET distance_m = :d, article = coalesce(:a, article) "
                "WHERE border_id = :b AND code = :z "
                "RETURNING (SELECT distance_m FROM border_zones WHERE border_id = :b AND code = :z)"
            ),
            {"d": distance_m, "a": article, "b": border_id, "z": zone_code},
        )
    ).scalar_one_or_none()
    if previous is None:
        raise NotFound(f"border {border_code} has no zone {zone_code!r}")
    record(
        session,
        caller=caller,
        action="zone.update",
        entity_type="border_zone",
        entity_id=f"{border_code}:{zone_code}",
        detail={"distance_m": {"from": previous, "to": distance_m}},
    )
    await zones_changed(session, border_id)
    await session.commit()

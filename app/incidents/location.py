"""Where an incident is: a client geometry (any supported CRS) or a `location` reference
(`VN-CN:1089`, `VN-CN:1248+470`, `VN-CN:1042-1053/1`) resolved against the register."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import shapely
from pyproj import Geod
from shapely.geometry import shape
from shapely.geometry.base import BaseGeometry
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from app.areas.service import EDGE_STEP_M
from app.borders.service import border_id_of
from app.chainage.service import resolve_point, resolve_range
from app.errors import InvalidInput
from app.geo.chainage import (
    InvalidChainage,
    is_range,
    parse_chainage,
    parse_range,
    split_border_prefix,
)
from app.geo.geometry import InvalidGeometry, parse_geometry
from app.markers.queries import marker_point

# The widest zone of the agreement is the 25 km flight-notice zone: farther than this from
# every border line, a report is not a border event.
MAX_DISTANCE_FROM_LINE_M = 30_000.0
_GEOD = Geod(ellps="WGS84")


@dataclass(frozen=True)
class Place:
    geom: BaseGeometry
    border: str
    border_id: int
    location_ref: str | None

    @property
    def wkb_hex(self) -> str:
        return str(shapely.to_wkb(self.geom, hex=True, include_srid=False))


async def nearest_border(session: AsyncSession, geom: BaseGeometry) -> tuple[str, float]:
    row = (
        await session.execute(
            text(
                """
                WITH g AS (SELECT ST_GeomFromWKB(decode(:wkb, 'hex'), 4326) AS g)
                SELECT b.code, ST_Distance(c.geom::geography, g.g::geography) AS d
                FROM (SELECT bp.border_id, bp.geom FROM border_parts bp, g
                      ORDER BY bp.geom <-> g.g LIMIT 6) c
                JOIN borders b ON b.id = c.border_id, g
                ORDER BY d LIMIT 1
                """
            ),
            {"wkb": shapely.to_wkb(geom, hex=True)},
        )
    ).one_or_none()
    if row is None:
        raise InvalidInput("no border lines are loaded", field="geometry")
    return str(row[0]), float(row[1])


async def distance_to_border(session: AsyncSession, geom: BaseGeometry, border_id: int) -> float:
    return float(
        (
            await session.execute(
                text(
                    """
                    WITH g AS (SELECT ST_GeomFromWKB(decode(:wkb, 'hex'), 4326) AS g)
                    SELECT min(ST_Distance(c.geom::geography, g.g::geography))
                    FROM (SELECT bp.geom FROM border_parts bp, g WHERE bp.border_id = :b
                          ORDER BY bp.geom <-> g.g LIMIT 3) c, g
                    """
                ),
                {"wkb": shapely.to_wkb(geom, hex=True), "b": border_id},
            )
        ).scalar_one()
    )


def location_border(location: str, border_hint: str | None) -> tuple[str, str]:
    """A location's border (its prefix or the hint; they must agree) and its reference."""
    prefixed, ref = split_border_prefix(location)
    border = (prefixed or border_hint or "").upper()
    if not border:
        raise InvalidInput(
            "a location names its border: VN-CN:1089, VN-CN:1248+470 or VN-CN:1042-1053/1",
            field="location",
        )
    if prefixed and border_hint and prefixed != border_hint.upper():
        raise InvalidInput(
            f"location names {prefixed}, properties.border {border_hint}", field="location"
        )
    return border, ref


def check_reach(distance_m: float, border: str) -> None:
    if distance_m > MAX_DISTANCE_FROM_LINE_M:
        raise InvalidInput(
            f"the geometry lies {distance_m / 1000:.1f} km from the {border} line, outside the "
            f"border's reach ({MAX_DISTANCE_FROM_LINE_M / 1000:.0f} km)",
            field="geometry",
        )


def could_stray(geom: BaseGeometry, nearest_m: float) -> bool:
    """Whether a part of `geom` may lie past the border's reach while its nearest part lies
    within: only when it spans more than the reach left (a point never does)."""
    if geom.geom_type == "Point":
        return False
    minx, miny, maxx, maxy = geom.bounds
    span = float(_GEOD.line_length([minx, maxx], [miny, maxy]))
    return nearest_m + span > MAX_DISTANCE_FROM_LINE_M


async def check_whole_reach(
    session: AsyncSession, geom: BaseGeometry, *, border_id: int, border: str, nearest_m: float
) -> None:
    """Every part of the geometry within the border's reach, not only its nearest: a
    MultiPoint with one point 500 km inland is not a border event."""
    if not could_stray(geom, nearest_m):
        return
    strays = (
        await session.execute(
            text(
                """
                SELECT EXISTS (
                  SELECT 1 FROM ST_DumpPoints(ST_Segmentize(
                      ST_GeomFromWKB(decode(:wkb, 'hex'), 4326)::geography, :step)::geometry) p
                  WHERE NOT EXISTS (
                    SELECT 1 FROM border_parts bp WHERE bp.border_id = :b
                    AND ST_DWithin(bp.geom::geography, p.geom::geography, :reach)))
                """
            ),
            {
                "wkb": shapely.to_wkb(geom, hex=True),
                "step": EDGE_STEP_M,
                "b": border_id,
                "reach": MAX_DISTANCE_FROM_LINE_M,
            },
        )
    ).scalar_one()
    if strays:
        raise InvalidInput(
            f"part of the geometry lies farther than {MAX_DISTANCE_FROM_LINE_M / 1000:.0f} km "
            f"from the {border} line, outside the border's reach",
            field="geometry",
        )


def client_geometry(
    geometry: dict[str, Any] | None, *, epsg: int, max_vertices: int
) -> BaseGeometry:
    try:
        return parse_geometry(geometry, epsg=epsg, max_vertices=max_vertices)
    except InvalidGeometry as exc:
        raise InvalidInput(exc.message, field=exc.field) from exc


async def from_location(session: AsyncSession, location: str, border_hint: str | None) -> Place:
    border, ref = location_border(location, border_hint)
    border_id = await border_id_of(session, border)
    try:
        if is_range(ref):
            stretch = await resolve_range(
                session, border=border, stretch=parse_range(ref), field="location"
            )
            geom: BaseGeometry = shape(stretch.geometry)
            canonical = f"{border}:{stretch.ref}"
        else:
            point_ref = parse_chainage(ref)
            if point_ref.offset_m == 0:
                # A plain marker: the marker itself (a bank marker stands off the line).
                geom = await marker_point(
                    session, border_id=border_id, code=point_ref.marker, field="location"
                )
            else:
                resolved = await resolve_point(
                    session, border=border, ref=point_ref, field="location"
                )
                geom = shape(resolved.geometry)
            canonical = f"{border}:{point_ref}"
    except InvalidChainage as exc:
        raise InvalidInput(str(exc), field="location") from exc
    return Place(geom, border, border_id, canonical)


def one_place(geometry: dict[str, Any] | None, location: str | None) -> None:
    if (geometry is None) == (location is None):
        raise InvalidInput("give exactly one of geometry or location", field="location")


async def resolve_place(
    session: AsyncSession,
    *,
    geometry: dict[str, Any] | None,
    location: str | None,
    epsg: int,
    border_hint: str | None,
    max_vertices: int,
) -> Place:
    one_place(geometry, location)
    if location is not None:
        return await from_location(session, location, border_hint)
    geom = client_geometry(geometry, epsg=epsg, max_vertices=max_vertices)
    if border_hint:
        border = border_hint.upper()
        border_id = await border_id_of(session, border)
        distance = await distance_to_border(session, geom, border_id)
    else:
        border, distance = await nearest_border(session, geom)
        border_id = await border_id_of(session, border)
    check_reach(distance, border)
    await check_whole_reach(session, geom, border_id=border_id, border=border, nearest_m=distance)
    return Place(geom, border, border_id, None)

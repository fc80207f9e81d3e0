"""Resolve chainage against the register and the measured line (M = geodesic metres).

`1248+470` is marker 1248's own chainage plus 470 m, located on the line with
ST_LocateAlong; a range is ST_LocateBetween of its two ends. The reverse takes
ST_InterpolatePoint (the M at the closest point of the line) and names it after the
last marker at or before that point.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from app.borders.service import border_id_of
from app.db import session_memo
from app.errors import InvalidInput, NotFound
from app.geo.chainage import ChainageRange, ChainageRef, format_chainage
from app.geo.marker_codes import MarkerCode
from app.geojson import COORD_DECIMALS

# How far past the end of the line rounding may reach before a reference is refused.
END_TOLERANCE_M = 0.5


@dataclass(frozen=True)
class ResolvedPoint:
    border: str
    ref: str
    marker: str
    offset_m: float
    chainage_m: float
    geometry: dict[str, Any]


@dataclass(frozen=True)
class ResolvedRange:
    border: str
    ref: str
    start: ResolvedPoint
    end: ResolvedPoint
    length_m: float
    geometry: dict[str, Any]


async def _marker_chainage(
    session: AsyncSession, border_id: int, border: str, code: MarkerCode, field: str
) -> float:
    found = (
        await session.execute(
            text(
                "SELECT chainage_m FROM markers WHERE border_id = :b AND number = :n "
                "AND aux_index = :a AND bank_index = :k"
            ),
            {"b": border_id, "n": code.number, "a": code.aux, "k": code.bank},
        )
    ).scalar_one_or_none()
    if found is None:
        raise no_marker_to_count_from(border, code, field)
    return float(found)


def no_marker_to_count_from(border: str, code: MarkerCode, field: str) -> InvalidInput:
    """A chainage reference counting from a marker the border does not hold."""
    return InvalidInput(f"border {border} has no marker {code}", field=field)


def past_the_end(
    ref: ChainageRef, border: str, *, metres: float, length: float, field: str
) -> InvalidInput:
    """A chainage reference `metres` along a line only `length` long."""
    return InvalidInput(
        f"{ref} lies {metres - length:.0f} m past the end of the {border} line "
        f"(the line is {length:.0f} m long; "
        f"{ref.marker} stands at {metres - ref.offset_m:.0f} m)",
        field=field,
    )


async def _line_length(session: AsyncSession, border_id: int) -> float:
    async def lookup() -> float:
        return float(
            (
                await session.execute(
                    text("SELECT length_m FROM borders WHERE id = :b"), {"b": border_id}
                )
            ).scalar_one()
        )

    return await session_memo(session, ("line_length", border_id), lookup)


async def _point_at(session: AsyncSession, border_id: int, metres: float) -> dict[str, Any]:
    found = (
        await session.execute(
            text(
                f"SELECT ST_AsGeoJSON(bordermark_point_at(measured_geom, :m), {COORD_DECIMALS}) "  # noqa: S608
                "FROM borders WHERE id = :b"
            ),
            {"b": border_id, "m": metres},
        )
    ).scalar_one()
    return json.loads(found)  # type: ignore[no-any-return]


async def _measure(
    session: AsyncSession, border_id: int, border: str, ref: ChainageRef, field: str
) -> float:
    metres = await _marker_chainage(session, border_id, border, ref.marker, field) + ref.offset_m
    length = await _line_length(session, border_id)
    if metres > length + END_TOLERANCE_M:
        raise past_the_end(ref, border, metres=metres, length=length, field=field)
    return min(metres, length)


async def resolve_point(
    session: AsyncSession, *, border: str, ref: ChainageRef, field: str = "ref"
) -> ResolvedPoint:
    border = border.upper()
    border_id = await border_id_of(session, border)
    metres = await _measure(session, border_id, border, ref, field)
    geometry = await _point_at(session, border_id, metres)
    return ResolvedPoint(border, str(ref), str(ref.marker), ref.offset_m, metres, geometry)


async def resolve_range(
    session: AsyncSession, *, border: str, stretch: ChainageRange, field: str = "ref"
) -> ResolvedRange:
    border = border.upper()
    border_id = await border_id_of(session, border)
    start_m = await _measure(session, border_id, border, stretch.start, field)
    end_m = await _measure(session, border_id, border, stretch.end, field)
    if end_m < start_m:
        raise InvalidInput(
            f"range {stretch} runs backwards: {stretch.end} ({end_m:.0f} m) comes before "
            f"{stretch.start} ({start_m:.0f} m) along the {border} line; write it as "
            f"{stretch.end}-{stretch.start}",
            field=field,
        )
    if end_m == start_m:
        raise InvalidInput(f"range {stretch} has no length", field=field)
    row = (
        await session.execute(
            text(
                f"""
                WITH s AS (
                  SELECT bordermark_stretch(measured_geom, :m1, :m2) AS g
                  FROM borders WHERE id = :b
                )
                SELECT ST_AsGeoJSON(g, {COORD_DECIMALS}), ST_Length(g::geography) FROM s
                """  # noqa: S608
            ),
            {"b": border_id, "m1": start_m, "m2": end_m},
        )
    ).one()
    start = ResolvedPoint(
        border,
        str(stretch.start),
        str(stretch.start.marker),
        stretch.start.offset_m,
        start_m,
        await _point_at(session, border_id, start_m),
    )
    end = ResolvedPoint(
        border,
        str(stretch.end),
        str(stretch.end.marker),
        stretch.end.offset_m,
        end_m,
        await _point_at(session, border_id, end_m),
    )
    return ResolvedRange(border, str(stretch), start, end, float(row[1]), json.loads(row[0]))


@dataclass(frozen=True)
class Location:
    border: str
    ref: str
    marker: str
    offset_m: float
    chainage_m: float
    distance_to_line_m: float
    side: str  # the country code on that side, or "on_line"
    nearest_marker: str
    nearest_marker_distance_m: float
    point_on_line: dict[str, Any]


# A point this close past-or-before a marker counts as at the marker (coordinates travel
# rounded to 7 decimals, about 1 cm, so exact comparison would flip between neighbours).
MARKER_SNAP_M = 0.5
# Points closer to the line than this are "on the line" (GPS error is metres anyway).
ON_LINE_TOLERANCE_M = 1.0


async def locate(session: AsyncSession, *, border: str, lon: float, lat: float) -> Location:
    border = border.upper()
    border_id = await border_id_of(session, border)
    row = (
        await session.execute(
            text(
                f"""
                WITH p AS (SELECT ST_SetSRID(ST_MakePoint(:lon, :lat), 4326) AS g)
                SELECT ST_InterpolatePoint(b.measured_geom, p.g) AS m,
                       ST_Distance(b.geom::geography, p.g::geography) AS d,
                       bordermark_side_of_line(b.geom, p.g) AS side,
                       b.left_country, b.right_country,
                       ST_AsGeoJSON(ST_ClosestPoint(b.geom, p.g), {COORD_DECIMALS}) AS on_line,
                       (SELECT json_build_array(m.code,
                                                ST_Distance(m.geom::geography, p.g::geography))
                        FROM markers m WHERE m.border_id = b.id
                        ORDER BY m.geom::geography <-> p.g::geography LIMIT 1)::text AS nearest
                FROM borders b, p WHERE b.id = :b
                """  # noqa: S608
            ),
            {"lon": lon, "lat": lat, "b": border_id},
        )
    ).one()
    metres = float(row.m)
    before = (
        await session.execute(
            text(
                "SELECT code, chainage_m FROM markers WHERE border_id = :b AND chainage_m <= :m "
                "ORDER BY chainage_m DESC, number DESC, aux_index DESC, bank_index DESC LIMIT 1"
            ),
            {"b": border_id, "m": metres + MARKER_SNAP_M},
        )
    ).one_or_none()
    if before is None or row.nearest is None:
        raise NotFound(f"border {border} has no marker at or before this point to count from")
    distance = float(row.d)
    if distance < ON_LINE_TOLERANCE_M:
        side = "on_line"
    else:
        side = row.left_country if row.side > 0 else row.right_country
    nearest_code, nearest_distance = json.loads(row.nearest)
    offset = max(0.0, metres - float(before.chainage_m))
    return Location(
        border=border,
        ref=format_chainage(before.code, offset),
        marker=before.code,
        offset_m=round(offset, 1),
        chainage_m=round(metres, 1),
        distance_to_line_m=round(distance, 1),
        side=side,
        nearest_marker=nearest_code,
        nearest_marker_distance_m=round(float(nearest_distance), 1),
        point_on_line=json.loads(row.on_line),
    )


async def resolve_prefixed_range(
    session: AsyncSession, text_ref: str, *, field: str, border_hint: str | None = None
) -> ResolvedRange:
    """`VN-CN:1042-1053/1` (or a bare range with `border_hint`) resolved, or a 422 on `field`."""
    from app.geo.chainage import InvalidChainage, is_range, parse_range, split_border_prefix

    prefixed, ref = split_border_prefix(text_ref)
    border = prefixed or (border_hint.upper() if border_hint else None)
    if border is None:
        raise InvalidInput("a range names its border: VN-CN:1042-1053/1", field=field)
    if not is_range(ref):
        raise InvalidInput(f"{text_ref!r} is not a range such as VN-CN:1042-1053/1", field=field)
    try:
        stretch = parse_range(ref)
    except InvalidChainage as exc:
        raise InvalidInput(str(exc), field=field) from exc
    return await resolve_range(session, border=border, stretch=stretch, field=field)

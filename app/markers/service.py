"""Writes to the marker register. Segments are derived from the register, so every write
that moves, adds or renumbers a marker rebuilds its border's segments in the same
transaction (segments keep their per-segment overrides across rebuilds)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from shapely.geometry import Point
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from app.areas.placement import UNIT_REACH_M, unit_at
from app.audit.service import record
from app.auth.caller import Caller
from app.auth.models import Role
from app.auth.scopes import require_province, require_role
from app.borders.service import border_id_of
from app.errors import Conflict, InvalidInput, NotFound, check_version
from app.geo.marker_codes import MarkerCode, MarkerKind
from app.markers.models import MarkerCondition

# A marker farther than this from its border line is a data-entry error, not a marker.
# Generous because the demo lines are generalised at 1:10m (vertices 1-3 km apart).
MAX_MARKER_OFFSET_M = 5_000.0


# The province a marker stands in today, by the one placement rule.
PROVINCE_TODAY = unit_at("province", geom="p.g", day="current_date")


@dataclass(frozen=True)
class Placement:
    chainage_m: float
    line_fraction: float
    offset_from_line_m: float
    province_code: str | None


async def place_on_line(session: AsyncSession, *, border_id: int, point: Point) -> Placement:
    """Where a point projects onto the border line, and the province it stands in today."""
    row = (
        await session.execute(
            text(
                f"""
                WITH p AS (SELECT ST_SetSRID(ST_MakePoint(:lon, :lat), 4326) AS g)
                SELECT ST_InterpolatePoint(b.measured_geom, p.g),
                       ST_LineLocatePoint(b.geom, p.g),
                       ST_Distance(b.geom::geography, p.g::geography),
                       {PROVINCE_TODAY}
                FROM borders b, p WHERE b.id = :b
                """  # noqa: S608
            ),
            {"lon": point.x, "lat": point.y, "b": border_id, "reach": UNIT_REACH_M},
        )
    ).one()
    return Placement(float(row[0]), float(row[1]), float(row[2]), row[3])


async def rebuild_segments(session: AsyncSession, *, border_id: int) -> int:
    """Recompute the segments of one border from its markers.

    A segment joins consecutive marker positions in code order; the banks of a double or
    triple marker share one position (the lowest bank stands for it). A segment touching a
    multi-bank position is a river segment. Per-segment sightline overrides survive.
    """
    overrides = (
        await session.execute(
            text(
                "SELECT from_marker_id, sightline_width_m FROM segments "
                "WHERE border_id = :b AND sightline_width_m IS NOT NULL"
            ),
            {"b": border_id},
        )
    ).all()
    await session.execute(text("DELETE FROM segments WHERE border_id = :b"), {"b": border_id})
    result = await session.execute(
        text(
            """
            WITH positions AS (
              SELECT DISTINCT ON (number, aux_index) id, number, aux_index, chainage_m, kind
              FROM markers WHERE border_id = :b
              ORDER BY number, aux_index, bank_index
            ), pairs AS (
              SELECT id, chainage_m, kind,
                     lead(id) OVER w AS next_id, lead(chainage_m) OVER w AS next_m,
                     lead(kind) OVER w AS next_kind
              FROM positions WINDOW w AS (ORDER BY number, aux_index)
            )
            INSERT INTO segments (border_id, from_marker_id, to_marker_id, start_m, end_m,
                                  length_m, kind, geom)
            SELECT :b, p.id, p.next_id, least(p.chainage_m, p.next_m),
                   greatest(p.chainage_m, p.next_m), s.length_m,
                   CASE WHEN p.kind IN ('double', 'triple') OR p.next_kind IN ('double', 'triple')
                        THEN 'river' ELSE 'land' END,
                   s.geom
            FROM pairs p, borders b,
                 LATERAL (SELECT bordermark_stretch(b.measured_geom,
                            least(p.chainage_m, p.next_m), greatest(p.chainage_m, p.next_m))
                            AS geom) g,
                 LATERAL (SELECT g.geom, ST_Length(g.geom::geography) AS length_m) s
            WHERE b.id = :b AND p.next_id IS NOT NULL AND p.next_m <> p.chainage_m
              AND GeometryType(g.geom) = 'LINESTRING'
            """
        ),
        {"b": border_id},
    )
    for from_marker_id, width in overrides:
        await session.execute(
            text(
                "UPDATE segments SET sightline_width_m = :w "
                "WHERE border_id = :b AND from_marker_id = :m"
            ),
            {"w": width, "b": border_id, "m": from_marker_id},
        )
    return int(getattr(result, "rowcount", 0) or 0)


@dataclass(frozen=True)
class MarkerInput:
    code: MarkerCode
    point: Point
    kind: MarkerKind | None = None
    condition: MarkerCondition = MarkerCondition.intact
    elevation_m: float | None = None
    last_inspected_on: date | None = None
    notes: str | None = None
    illustrative: bool = False


def _check_kind(code: MarkerCode, kind: MarkerKind | None) -> MarkerKind:
    implied = code.kind
    if kind is None:
        return implied
    # A bank index says double or triple; which of the two only a (3) proves.
    compatible = kind == implied or (implied is MarkerKind.double and kind is MarkerKind.triple)
    if not compatible:
        raise InvalidInput(f"code {code} is a {implied} marker, not {kind}", field="kind")
    return kind


async def insert_marker(
    session: AsyncSession, *, border_id: int, marker: MarkerInput, placement: Placement
) -> int | None:
    """Insert one marker; None when the border already has that code. Does not commit."""
    kind = _check_kind(marker.code, marker.kind)
    return (
        await session.execute(
            text(
                """
                INSERT INTO markers (border_id, code, number, aux_index, bank_index, kind, geom,
                    elevation_m, condition, last_inspected_on, notes, line_fraction, chainage_m,
                    offset_from_line_m, province_code, illustrative)
                VALUES (:b, :code, :n, :a, :k, :kind, ST_SetSRID(ST_MakePoint(:lon, :lat), 4326),
                    :elev, :cond, :inspected, :notes, :frac, :chain, :offset, :province,
                    :illustrative)
                ON CONFLICT DO NOTHING
                RETURNING id
                """
            ),
            {
                "b": border_id,
                "code": str(marker.code),
                "n": marker.code.number,
                "a": marker.code.aux,
                "k": marker.code.bank,
                "kind": kind.value,
                "lon": marker.point.x,
                "lat": marker.point.y,
                "elev": marker.elevation_m,
                "cond": marker.condition.value,
                "inspected": marker.last_inspected_on,
                "notes": marker.notes,
                "frac": placement.line_fraction,
                "chain": placement.chainage_m,
                "offset": placement.offset_from_line_m,
                "province": placement.province_code,
                "illustrative": marker.illustrative,
            },
        )
    ).scalar_one_or_none()


def check_offset(placement: Placement, border_code: str) -> None:
    if placement.offset_from_line_m > MAX_MARKER_OFFSET_M:
        raise InvalidInput(
            f"the point lies {placement.offset_from_line_m:.0f} m from the {border_code} line; "
            f"a marker must stand within {MAX_MARKER_OFFSET_M:.0f} m of it",
            field="geometry",
        )


async def create_marker(
    session: AsyncSession, *, caller: Caller, border_code: str, marker: MarkerInput
) -> None:
    """Officers add markers in their province, admins anywhere. Commits."""
    require_role(caller, Role.officer)
    border_id = await border_id_of(session, border_code)
    placement = await place_on_line(session, border_id=border_id, point=marker.point)
    check_offset(placement, border_code)
    require_province(caller, placement.province_code, what=f"marker {marker.code}")
    marker_id = await insert_marker(
        session, border_id=border_id, marker=marker, placement=placement
    )
    if marker_id is None:
        raise Conflict(f"border {border_code.upper()} already has a marker {marker.code}")
    await rebuild_segments(session, border_id=border_id)
    record(
        session,
        caller=caller,
        action="marker.create",
        entity_type="marker",
        entity_id=f"{border_code.upper()}:{marker.code}",
        detail={"lon": marker.point.x, "lat": marker.point.y, "condition": marker.condition},
    )
    await session.commit()


@dataclass(frozen=True)
class MarkerChanges:
    """Fields a PATCH may set; `fields_set` says which were given (None can mean 'clear')."""

    fields_set: frozenset[str]
    point: Point | None = None
    condition: MarkerCondition | None = None
    elevation_m: float | None = None
    last_inspected_on: date | None = None
    notes: str | None = None


_PATCHABLE = ("condition", "elevation_m", "last_inspected_on", "notes")


async def update_marker(
    session: AsyncSession,
    *,
    caller: Caller,
    border_code: str,
    code: MarkerCode,
    changes: MarkerChanges,
    if_match_version: int | None,
) -> None:
    """Officers edit markers of their province (a move must stay inside it). Commits."""
    require_role(caller, Role.officer)
    border_id = await border_id_of(session, border_code)
    current = (
        await session.execute(
            text(
                "SELECT id, version, province_code, condition, elevation_m, last_inspected_on, "
                "notes, ST_X(geom) AS lon, ST_Y(geom) AS lat FROM markers "
                "WHERE border_id = :b AND number = :n AND aux_index = :a AND bank_index = :k "
                "FOR UPDATE"
            ),
            {"b": border_id, "n": code.number, "a": code.aux, "k": code.bank},
        )
    ).one_or_none()
    if current is None:
        raise NotFound(f"no marker {code} on border {border_code.upper()}")
    require_province(caller, current.province_code, what=f"marker {code}")
    check_version(current.version, if_match_version, what=f"marker {code}", required=False)
    values: dict[str, Any] = {}
    before: dict[str, Any] = {}
    for name in _PATCHABLE:
        if name in changes.fields_set:
            new = getattr(changes, name)
            old = getattr(current, name)
            if new != old:
                values[name] = new.value if isinstance(new, MarkerCondition) else new
                before[name] = old
    moved = changes.point is not None and (
        (changes.point.x, changes.point.y) != (current.lon, current.lat)
    )
    if moved:
        assert changes.point is not None
        placement = await place_on_line(session, border_id=border_id, point=changes.point)
        check_offset(placement, border_code)
        require_province(caller, placement.province_code, what=f"the new position of {code}")
        values.update(
            line_fraction=placement.line_fraction,
            chainage_m=placement.chainage_m,
            offset_from_line_m=placement.offset_from_line_m,
            province_code=placement.province_code,
        )
        before["geometry"] = [current.lon, current.lat]
    if not values:
        return
    assignments = ", ".join(f"{name} = :{name}" for name in values)  # names from _PATCHABLE
    geom_sql = ", geom = ST_SetSRID(ST_MakePoint(:lon, :lat), 4326)" if moved else ""
    params: dict[str, Any] = {**values, "id": current.id}
    if moved:
        assert changes.point is not None
        params.update(lon=changes.point.x, lat=changes.point.y)
    await session.execute(
        text(
            f"UPDATE markers SET {assignments}{geom_sql}, version = version + 1, "  # noqa: S608
            "updated_at = now() WHERE id = :id"
        ),
        params,
    )
    if moved:
        await rebuild_segments(session, border_id=border_id)
    after = {k: v for k, v in values.items() if k in _PATCHABLE}
    if moved:
        assert changes.point is not None
        after["geometry"] = [changes.point.x, changes.point.y]
    record(
        session,
        caller=caller,
        action="marker.update",
        entity_type="marker",
        entity_id=f"{border_code.upper()}:{code}",
        detail={"before": _jsonable(before), "after": _jsonable(after)},
    )
    await session.commit()


def _jsonable(values: dict[str, Any]) -> dict[str, Any]:
    return {k: (v.isoformat() if isinstance(v, date) else v) for k, v in values.items()}

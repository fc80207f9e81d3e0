"""SQL-first reads of markers as GeoJSON."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from shapely.geometry import Point
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from app.errors import InvalidInput, NotFound
from app.geo.marker_codes import MarkerCode
from app.geojson import COORD_DECIMALS, envelope_sql
from app.paging import Page, fetch_page
from app.sql import Sql

MARKER_FEATURE = f"""
json_build_object(
  'type', 'Feature',
  'id', m.id,
  'geometry', ST_AsGeoJSON(m.geom, {COORD_DECIMALS})::json,
  'properties', json_build_object(
    'border', b.code, 'code', m.code, 'ref', b.code || ':' || m.code,
    'number', m.number, 'aux_index', m.aux_index, 'bank_index', m.bank_index,
    'kind', m.kind, 'condition', m.condition, 'elevation_m', m.elevation_m,
    'last_inspected_on', m.last_inspected_on, 'notes', m.notes,
    'chainage_m', round(m.chainage_m::numeric, 1), 'line_fraction', m.line_fraction,
    'offset_from_line_m', round(m.offset_from_line_m::numeric, 1),
    'province', m.province_code, 'illustrative', m.illustrative,
    'version', m.version, 'updated_at', m.updated_at
  )
)
"""


@dataclass(frozen=True)
class MarkerFilter:
    border: str | None = None
    from_code: MarkerCode | None = None
    to_code: MarkerCode | None = None
    bbox: tuple[float, float, float, float] | None = None
    conditions: tuple[str, ...] = ()


def code_span(
    start_alias: str,
    end_alias: str,
    border: str | None,
    from_code: MarkerCode | None,
    to_code: MarkerCode | None,
) -> list[Sql]:
    """A border (over `b`) and the markers from `from_code` to `to_code` in the register's
    order: the row's start marker `start_alias` at or after the one, its end marker
    `end_alias` at or before the other (a marker list passes `m` for both)."""
    clauses: list[Sql] = []
    if border is not None:
        clauses.append(Sql("b.code = :border", {"border": border.upper()}))
    if (from_code or to_code) and border is None:
        raise InvalidInput("from/to name markers of one border: give border too", field="border")
    if from_code is not None:
        clauses.append(
            Sql(
                f"({start_alias}.number, {start_alias}.aux_index, {start_alias}.bank_index)"
                " >= (:fn, :fa, :fb)",
                {"fn": from_code.number, "fa": from_code.aux, "fb": from_code.bank},
            )
        )
    if to_code is not None:
        # `to=836` covers both banks 836(1) and 836(2); `to=836(1)` only the first.
        clauses.append(
            Sql(
                f"({end_alias}.number, {end_alias}.aux_index, {end_alias}.bank_index)"
                " <= (:tn, :ta, :tb)",
                {"tn": to_code.number, "ta": to_code.aux, "tb": to_code.bank or 9},
            )
        )
    return clauses


def _where(f: MarkerFilter, after: list[Any] | None) -> Sql:
    # Only fixed fragments are joined; every value is a bound parameter.
    clauses = code_span("m", "m", f.border, f.from_code, f.to_code)
    if f.bbox is not None:
        clauses.append(Sql(f"m.geom && {envelope_sql(*f.bbox)}"))  # numbers: envelope_sql
    if f.conditions:
        clauses.append(Sql("m.condition = ANY(:conditions)", {"conditions": list(f.conditions)}))
    if after is not None:
        keys = dict(zip(["k0", "k1", "k2", "k3"], after, strict=True))
        clauses.append(
            Sql("(b.code, m.number, m.aux_index, m.bank_index) > (:k0, :k1, :k2, :k3)", keys)
        )
    return Sql.all(clauses)


async def list_markers(
    session: AsyncSession, f: MarkerFilter, *, limit: int, after: list[Any] | None
) -> Page:
    where = _where(f, after)
    sql = f"""
    WITH page AS (
      SELECT {MARKER_FEATURE} AS feature,
             json_build_array(b.code, m.number, m.aux_index, m.bank_index) AS sort_key,
             row_number() OVER (ORDER BY b.code, m.number, m.aux_index, m.bank_index) AS rn
      FROM markers m JOIN borders b ON b.id = m.border_id
      WHERE {where.text}
      ORDER BY rn
      LIMIT :limit_plus_one
    )
    """  # noqa: S608
    return await fetch_page(session, sql, where.params, limit=limit)


async def marker_feature(session: AsyncSession, *, border: str, code: MarkerCode) -> str:
    found = (
        await session.execute(
            text(
                f"SELECT {MARKER_FEATURE}::text "  # noqa: S608
                "FROM markers m JOIN borders b ON b.id = m.border_id "
                "WHERE b.code = :border AND m.number = :n AND m.aux_index = :a "
                "AND m.bank_index = :k"
            ),
            {"border": border.upper(), "n": code.number, "a": code.aux, "k": code.bank},
        )
    ).scalar_one_or_none()
    if found is None:
        raise await _missing_marker(session, border, code)
    return str(found)


async def _missing_marker(session: AsyncSession, border: str, code: MarkerCode) -> NotFound:
    """Which is missing: the border (say which exist) or the marker on it."""
    borders = (await session.execute(text("SELECT code FROM borders ORDER BY code"))).scalars()
    known = list(borders)
    if border.upper() not in known:
        return NotFound(f"no border {border.upper()}; borders: {', '.join(known)}")
    return NotFound(f"no marker {code} on border {border.upper()}")


async def nearest_markers(
    session: AsyncSession, *, lon: float, lat: float, k: int, border: str | None
) -> tuple[str, int]:
    """The k markers nearest a point, by geodesic distance (KNN on the geography index)."""
    border_clause = "AND b.code = :border" if border else ""
    sql = f"""
    WITH p AS (SELECT ST_SetSRID(ST_MakePoint(:lon, :lat), 4326)::geography AS g),
    -- KNN on the geography index ranks by sphere distance; take spare candidates and rank
    -- them again by the exact spheroid distance, which is what we report.
    candidates AS (
      SELECT m.id, ST_Distance(m.geom::geography, p.g) AS d
      FROM markers m JOIN borders b ON b.id = m.border_id, p
      WHERE TRUE {border_clause}
      ORDER BY m.geom::geography <-> p.g
      LIMIT :k * 4 + 8
    ),
    near AS (SELECT id, d FROM candidates ORDER BY d LIMIT :k)
    SELECT coalesce(json_agg(
             jsonb_set(to_jsonb({MARKER_FEATURE}), '{{properties,distance_m}}',
                       to_jsonb(round(near.d::numeric, 1)))
             ORDER BY near.d)::text, '[]'),
           count(*)
    FROM near JOIN markers m ON m.id = near.id JOIN borders b ON b.id = m.border_id
    """  # noqa: S608
    params: dict[str, Any] = {"lon": lon, "lat": lat, "k": k}
    if border:
        params["border"] = border.upper()
    row = (await session.execute(text(sql), params)).one()
    return row[0], int(row[1])


async def marker_point(
    session: AsyncSession, *, border_id: int, code: MarkerCode, field: str
) -> Point:
    """The position of a marker, or a 422 naming `field` when the border has no such code."""
    row = (
        await session.execute(
            text(
                "SELECT ST_X(geom), ST_Y(geom) FROM markers WHERE border_id = :b "
                "AND number = :n AND aux_index = :a AND bank_index = :k"
            ),
            {"b": border_id, "n": code.number, "a": code.aux, "k": code.bank},
        )
    ).one_or_none()
    if row is None:
        raise no_such_marker(code, field)
    return Point(row[0], row[1])


def no_such_marker(code: MarkerCode, field: str) -> InvalidInput:
    """A marker reference the border's register does not hold (marker_point, batches)."""
    return InvalidInput(f"the border has no marker {code}", field=field)

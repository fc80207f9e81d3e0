"""The register of units: provinces, districts, communes and Border Guard stations, each
version with its validity, and the units across the line. Reference data every signed-in
caller reads (as the markers): none of it says anything about an incident."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from app.areas.placement import UNIT_REACH_M, unit_at, valid_on
from app.db import plain_row
from app.errors import NotFound
from app.text import fold

# Pieces of the line this long are placed one by one to measure a province's share of it:
# a kilometre keeps the measure to a few hundred statements' worth of work and its error
# under a kilometre a province.
LINE_PIECE_M = 1_000.0

# The units of these levels (`:levels`, all when empty) valid on a day (`:on`, every version
# when NULL): the register's list and its export.
OF_LEVELS_ON = f"""(cardinality(CAST(:levels AS text[])) = 0 OR u.level = ANY(:levels))
  AND (CAST(:on AS date) IS NULL OR {valid_on("CAST(:on AS date)")})"""

_COLUMNS = """u.code, u.level, u.name_vi, u.name_ascii, u.parent_code AS parent,
  u.province_code AS province, u.valid_from, u.valid_to, u.document, u.source,
  round((ST_Area(u.geom::geography) / 1e6)::numeric, 1) AS area_km2"""


async def list_units(
    session: AsyncSession,
    *,
    levels: Sequence[str],
    on: date | None,
    province: str | None,
    name: str | None,
) -> list[dict[str, Any]]:
    """Every version of every unit, or those valid `on` a day; by level, province, or a
    name given with or without its diacritics."""
    rows = await session.execute(
        text(
            f"""
            SELECT {_COLUMNS} FROM admin_units u
            WHERE {OF_LEVELS_ON}
              AND (CAST(:province AS text) IS NULL OR u.code = :province
                   OR u.province_code = :province)
              AND (CAST(:name AS text) IS NULL
                   OR lower(u.name_ascii) LIKE '%' || :name || '%')
            ORDER BY u.province_code NULLS FIRST, u.level, u.code, u.valid_from
            """  # noqa: S608
        ),
        {
            "levels": list(levels),
            "on": on,
            "province": province,
            "name": fold(name) if name else None,
        },
    )
    return [plain_row(r) for r in rows.mappings()]


async def get_unit(session: AsyncSession, code: str, *, on: date) -> dict[str, Any]:
    """A unit's versions (each with its shape), the units under it on `on`, and for a
    province its length of each border: as its documents state it and as modelled."""
    versions = [
        plain_row(r)
        for r in (
            await session.execute(
                text(
                    f"""
                    SELECT {_COLUMNS}, ST_AsGeoJSON(u.geom, 6)::json AS geometry
                    FROM admin_units u WHERE u.code = :code ORDER BY u.valid_from
                    """  # noqa: S608
                ),
                {"code": code},
            )
        ).mappings()
    ]
    if not versions:
        raise NotFound(f"no unit {code!r}")
    children = [
        plain_row(r)
        for r in (
            await session.execute(
                text(
                    f"""
                    SELECT {_COLUMNS} FROM admin_units u
                    WHERE u.parent_code = :code AND {valid_on("CAST(:on AS date)")}
                    ORDER BY u.level, u.code
                    """  # noqa: S608
                ),
                {"code": code, "on": on},
            )
        ).mappings()
    ]
    found: dict[str, Any] = {"code": code, "on": on.isoformat(), "versions": versions}
    found["units_under"] = children
    if versions[-1]["level"] == "province":
        found["border_lengths"] = await border_lengths(session, code, on=on)
    return found


async def border_lengths(session: AsyncSession, province: str, *, on: date) -> list[dict[str, Any]]:
    """Per border the province lies on: the official length (where its documents give one)
    and the modelled line's length placed in it by the one placement rule."""
    rows = await session.execute(
        text(
            f"""
            WITH near AS (
              SELECT b.id, b.code, b.geom FROM borders b, admin_units p
              WHERE p.code = :province AND p.level = 'province'
                AND {valid_on("CAST(:on AS date)", "p")}
                AND ST_DWithin(p.geom::geography, b.geom::geography, :reach)
            ), pieces AS (
              SELECT n.id,
                (ST_DumpSegments(ST_Segmentize(n.geom::geography, :piece)::geometry)).geom AS p
              FROM near n
            ), placed AS (
              SELECT pieces.id, ST_Length(pieces.p::geography) AS len,
                     {unit_at("province", geom="m.mid", day="CAST(:on AS date)")} AS province
              FROM pieces, LATERAL (SELECT ST_LineInterpolatePoint(pieces.p, 0.5) AS mid) m
            )
            SELECT n.code AS border,
                   round((sum(pl.len) FILTER (WHERE pl.province = :province) / 1000)::numeric, 1)
                     AS modelled_km,
                   o.length_km AS official_km, o.source AS official_source
            FROM near n JOIN placed pl ON pl.id = n.id
            LEFT JOIN official_border_lengths o ON o.border_id = n.id
                                               AND o.province_code = :province
            GROUP BY n.code, o.length_km, o.source ORDER BY n.code
            """  # noqa: S608
        ),
        {"province": province, "on": on, "reach": UNIT_REACH_M, "piece": LINE_PIECE_M},
    )
    return [plain_row(r) for r in rows.mappings()]


# A gate or a step of talks names its counterpart as the reports write it ("Văn phòng Ngoại
# vụ Quảng Tây", "huyện Nà Po (Trung Quốc)"): it concerns the unit whose Vietnamese name it
# contains. Steps are read in their incident's province (`:scope`, NULL for all).
_NAMES = "position(c.name_vi IN {text}) > 0"
_TALKS = f"""
FROM incident_steps s JOIN incidents i ON i.id = s.incident_id
WHERE s.counterpart IS NOT NULL AND {_NAMES.format(text="s.counterpart")}
  AND (CAST(:scope AS text) IS NULL OR i.province_code = :scope)"""
_COUNTERPART = f"""
SELECT c.code, c.country, c.level, c.name_vi, c.name_local, c.name_en,
       c.parent_code AS parent, c.facing, c.source,
       coalesce((SELECT array_agg(g.code ORDER BY g.code) FROM crossings g
                 WHERE g.other_side_unit IS NOT NULL
                   AND {_NAMES.format(text="g.other_side_unit")}), '{{}}') AS crossings,
       (SELECT count(*)::int {_TALKS}) AS talks,
       (SELECT max(s.happened_on) {_TALKS}) AS last_talk_on
FROM counterpart_units c
"""  # noqa: S608


async def list_counterparts(
    session: AsyncSession, *, country: str | None, facing: str | None, scope: str | None
) -> list[dict[str, Any]]:
    """The units across the line, each with the gates that name it and the talks with it
    (steps of the caller's province's cases) counted."""
    rows = await session.execute(
        text(
            _COUNTERPART
            + """
            WHERE (CAST(:country AS text) IS NULL OR c.country = :country)
              AND (CAST(:facing AS text) IS NULL OR :facing = ANY(c.facing))
            ORDER BY c.country, c.level DESC, c.code
            """
        ),
        {"country": country, "facing": facing, "scope": scope},
    )
    return [plain_row(r) for r in rows.mappings()]


async def get_counterpart(session: AsyncSession, code: str, *, scope: str | None) -> dict[str, Any]:
    """A unit across the line with the talks held with it, newest first."""
    row = (
        (
            await session.execute(
                text(_COUNTERPART + " WHERE c.code = :code"), {"code": code, "scope": scope}
            )
        )
        .mappings()
        .first()
    )
    if row is None:
        raise NotFound(f"no counterpart unit {code!r}")
    found = plain_row(row)
    talks = await session.execute(
        text(
            f"""
            SELECT s.id AS step_id, s.incident_id, s.kind, s.happened_on, s.level,
                   s.counterpart, s.place, s.summary
            FROM counterpart_units c, LATERAL (SELECT s.* {_TALKS}) s
            WHERE c.code = :code
            ORDER BY s.happened_on DESC, s.id
            """  # noqa: S608
        ),
        {"scope": scope, "code": code},
    )
    found["talks_with"] = [plain_row(r) for r in talks.mappings()]
    return found

"""The demo's units: provinces, districts with their 2020 merges, communes across the 2025
reorganisation, Border Guard stations, the units across the line and the official border
lengths.

Every shape here is ILLUSTRATIVE (no boundaries are shipped); the names, the merges and the
acts that made them are real, each with its source in the CSV:
- districts are Voronoi cells of their seats (district-seats.csv, the districts as they
  stood before 1 Jul 2025, and district-merges.csv, those merged before), cut to 35 km
  around each seat and to Vietnam's side of the line; a district that took others in is
  its own cell and theirs from the day of the merge; a province is the union of its
  districts;
- communes (communes.csv) are Voronoi cells of their seats inside their district, cut to
  6 km around each seat; a commune formed on 1 Jul 2025 is the union of those it merged;
- a station's area (stations.csv) is its province's land within 8 km of the stretch of the
  line it guards, between two markers.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date

import shapely
from shapely.geometry import MultiPoint, MultiPolygon, Point, Polygon
from shapely.geometry.base import BaseGeometry
from shapely.ops import unary_union
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from app.borders.service import side_region
from app.text import ascii_fold
from seed.incidents import read_csv
from seed.loader import (
    ILLUSTRATIVE,
    border_lines,
    border_specs,
    slug,
    to_utm,
    to_wgs84,
)

# The district level of local government ended on 1 Jul 2025 (provinces merged too, but
# Lạng Sơn, Cao Bằng and Hà Tĩnh kept their borders); communes merged the same day.
DISTRICTS_END = date(2025, 7, 1)
UNITS_START = date(2000, 1, 1)  # illustrative start of validity for the demo units
DISTRICT_RADIUS_M = 35_000
COMMUNE_RADIUS_M = 6_000
STATION_REACH_M = 8_000
# A commune's code says its kind: a town (thị trấn Lộc Bình) and the commune formed from it
# (xã Lộc Bình) share a name, and a commune may share its district's.
KIND_PREFIX = {"xã": "xa-", "thị trấn": "tt-", "phường": "p-"}
STATION_PREFIX = "don-bp-"


@dataclass(frozen=True)
class DemoUnit:
    code: str
    level: str
    name_vi: str
    parent_code: str | None
    province_code: str | None
    valid_from: date
    valid_to: date | None
    geom: MultiPolygon
    source: str
    document: str | None = None


def _polygons(geom: BaseGeometry) -> MultiPolygon:
    geom = shapely.make_valid(geom)
    return MultiPolygon(
        [g for g in getattr(geom, "geoms", [geom]) if isinstance(g, Polygon) and not g.is_empty]
    )


def _cells(seats: list[Point], within: BaseGeometry, radius_m: float) -> list[BaseGeometry]:
    """The Voronoi cell of each seat (metric), cut to `within` and to `radius_m` of it."""
    cells = shapely.voronoi_polygons(MultiPoint(seats), extend_to=within.buffer(100_000))
    return [
        next(c for c in cells.geoms if c.contains(seat))
        .intersection(seat.buffer(radius_m))
        .intersection(within)
        for seat in seats
    ]


def _seat(row: dict[str, str]) -> Point:
    return to_utm(Point(float(row["seat_lon"]), float(row["seat_lat"])))


CELL_SOURCE = f"{ILLUSTRATIVE}: Voronoi cell of the approximate seat"


def demo_districts() -> list[DemoUnit]:
    """Districts before and after Cao Bằng's 2020 merges, then provinces as their union."""
    latest = read_csv("district-seats.csv")
    merged = read_csv("district-merges.csv")
    lines = border_lines()
    specs = border_specs()
    units: list[DemoUnit] = []
    for border in {r["border"] for r in latest}:
        line, _ = lines[border]
        side = to_utm(side_region(line, left=specs[border].vn_side == "left"))
        earlier = [r for r in merged if r["border"] == border]
        earlier_seats = {(r["seat_lon"], r["seat_lat"]) for r in earlier}
        # A district seated where one it took in was (Quảng Hòa at Quảng Uyên) has no cell
        # of its own: it is the union of those it took in.
        own = [
            r
            for r in latest
            if r["border"] == border and (r["seat_lon"], r["seat_lat"]) not in earlier_seats
        ]
        rows = own + earlier
        cells = _cells([_seat(r) for r in rows], side, DISTRICT_RADIUS_M)
        cell_of = {r["district"]: to_wgs84(c) for r, c in zip(rows, cells, strict=True)}
        taken_in: dict[str, list[dict[str, str]]] = defaultdict(list)
        for r in earlier:
            taken_in[r["merged_into"]].append(r)
        for r in earlier:
            units.append(_district(r, UNITS_START, date.fromisoformat(r["merged_on"]), cell_of))
        for r in (r for r in latest if r["border"] == border):
            merges = taken_in.get(r["district"], [])
            if not merges:
                units.append(_district(r, UNITS_START, DISTRICTS_END, cell_of))
                continue
            merged_on = date.fromisoformat(merges[0]["merged_on"])
            if r["district"] in cell_of:  # as it stood before the merge
                units.append(_district(r, UNITS_START, merged_on, cell_of))
            parts = [cell_of[m["district"]] for m in merges]
            if r["district"] in cell_of:
                parts.append(cell_of[r["district"]])
            units.append(
                DemoUnit(
                    slug(r["district"]),
                    "district",
                    r["district"],
                    slug(r["province"]),
                    slug(r["province"]),
                    merged_on,
                    DISTRICTS_END,
                    _polygons(unary_union(parts)),
                    f"{ILLUSTRATIVE}: union of the cells of the districts merged",
                    merges[0]["document"],
                )
            )
    provinces = []
    names = {slug(r["province"]): r["province"] for r in latest}
    for code, name in names.items():
        shape = unary_union([u.geom for u in units if u.parent_code == code])
        provinces.append(
            DemoUnit(
                code,
                "province",
                name,
                None,
                None,
                UNITS_START,
                None,
                _polygons(shape),
                f"{ILLUSTRATIVE}: union of its districts",
            )
        )
    return provinces + units


def _district(
    row: dict[str, str], start: date, end: date, cell_of: dict[str, BaseGeometry]
) -> DemoUnit:
    province = slug(row["province"])
    return DemoUnit(
        slug(row["district"]),
        "district",
        row["district"],
        province,
        province,
        start,
        end,
        _polygons(cell_of[row["district"]]),
        CELL_SOURCE,
    )


def demo_communes(districts: list[DemoUnit]) -> list[DemoUnit]:
    """Communes as they stood before 1 Jul 2025 and those formed that day by merging them."""
    rows = read_csv("communes.csv")
    units: list[DemoUnit] = []
    by_district: dict[str, list[dict[str, str]]] = defaultdict(list)
    for r in rows:
        by_district[slug(r["district"])].append(r)
    for district_code, members in by_district.items():
        district = next(
            d for d in districts if d.code == district_code and d.valid_to == DISTRICTS_END
        )
        cells = _cells([_seat(r) for r in members], to_utm(district.geom), COMMUNE_RADIUS_M)
        for r, cell in zip(members, cells, strict=True):
            units.append(
                DemoUnit(
                    KIND_PREFIX[r["kind"]] + slug(r["commune"]),
                    "commune",
                    f"{r['kind']} {r['commune']}",
                    district_code,
                    district.province_code,
                    UNITS_START,
                    DISTRICTS_END,
                    # Cut again in degrees: the round trip through metres leaves slivers.
                    _polygons(to_wgs84(cell).intersection(district.geom)),
                    CELL_SOURCE,
                )
            )
    formed: dict[str, list[DemoUnit]] = defaultdict(list)
    for r, unit in zip((r for ms in by_district.values() for r in ms), units, strict=True):
        formed[r["merged_into"]].append(unit)
    documents = {r["merged_into"]: r["document"] for r in rows}
    for name, parts in formed.items():
        province = parts[0].province_code
        units.append(
            DemoUnit(
                KIND_PREFIX["xã"] + slug(name),
                "commune",
                f"xã {name}",
                province,
                province,
                DISTRICTS_END,
                None,
                _polygons(unary_union([p.geom for p in parts])),
                f"{ILLUSTRATIVE}: union of the cells of the communes merged",
                documents[name],
            )
        )
    return units


async def _insert_unit(session: AsyncSession, unit: DemoUnit) -> None:
    await session.execute(
        text(
            """
            INSERT INTO admin_units (code, level, name_vi, name_ascii, parent_code,
                province_code, valid_from, valid_to, geom, source, document)
            VALUES (:code, :level, :name_vi, :name_ascii, :parent, :province, :valid_from,
                :valid_to, ST_Multi(ST_GeomFromText(:wkt, 4326)), :source, :document)
            ON CONFLICT (code, valid_from) DO NOTHING
            """
        ),
        {
            "code": unit.code,
            "level": unit.level,
            "name_vi": unit.name_vi,
            "name_ascii": ascii_fold(unit.name_vi),
            "parent": unit.parent_code,
            "province": unit.province_code,
            "valid_from": unit.valid_from,
            "valid_to": unit.valid_to,
            "wkt": unit.geom.wkt,
            "source": unit.source,
            "document": unit.document,
        },
    )


async def load_demo_admin_units(session: AsyncSession) -> None:
    """Provinces, districts and communes: before the markers, which are placed in them."""
    districts = demo_districts()
    for unit in districts + demo_communes(districts):
        await _insert_unit(session, unit)


async def load_demo_stations(session: AsyncSession) -> None:
    """Border Guard stations: after the markers, whose stretch of the line they guard."""
    for row in read_csv("stations.csv"):
        province = slug(row["province"])
        await session.execute(
            text(
                """
                WITH stretch AS (
                  SELECT bordermark_stretch(b.measured_geom, least(f.chainage_m, t.chainage_m),
                                            greatest(f.chainage_m, t.chainage_m)) AS g
                  FROM borders b
                  JOIN markers f ON f.border_id = b.id AND f.code = :from_marker
                  JOIN markers t ON t.border_id = b.id AND t.code = :to_marker
                  WHERE b.code = :border
                ), province AS (
                  SELECT geom FROM admin_units
                  WHERE code = :province AND level = 'province' AND valid_to IS NULL
                )
                INSERT INTO admin_units (code, level, name_vi, name_ascii, parent_code,
                    province_code, valid_from, valid_to, geom, source)
                SELECT :code, 'station', :name_vi, :name_ascii, :province, :province,
                       :valid_from, NULL,
                       ST_Multi(ST_CollectionExtract(ST_Intersection(province.geom,
                         ST_Buffer(stretch.g::geography, :reach)::geometry), 3)),
                       :source
                FROM stretch, province
                ON CONFLICT (code, valid_from) DO NOTHING
                """
            ),
            {
                "border": row["border"],
                "from_marker": row["from_marker"],
                "to_marker": row["to_marker"],
                "province": province,
                "code": STATION_PREFIX + slug(row["station"]),
                "name_vi": f"Đồn Biên phòng {row['station']}",
                "name_ascii": ascii_fold(f"Don Bien phong {row['station']}"),
                "valid_from": UNITS_START,
                "reach": STATION_REACH_M,
                "source": f"{ILLUSTRATIVE}: its province's land within "
                f"{STATION_REACH_M // 1000} km of markers {row['from_marker']}-"
                f"{row['to_marker']}; {row['note']}",
            },
        )


async def load_demo_counterparts(session: AsyncSession) -> None:
    for row in read_csv("counterpart-units.csv"):
        await session.execute(
            text(
                """
                INSERT INTO counterpart_units (code, country, level, name_vi, name_local,
                    name_en, parent_code, facing, source)
                VALUES (:code, :country, :level, :name_vi, :name_local, :name_en, :parent,
                    CAST(:facing AS varchar(40)[]), :source)
                ON CONFLICT (code) DO NOTHING
                """
            ),
            {
                "code": row["code"],
                "country": row["country"],
                "level": row["level"],
                "name_vi": row["name_vi"],
                "name_local": row["name_local"] or None,
                "name_en": row["name_en"],
                "parent": row["parent"] or None,
                "facing": [slug(p) for p in row["facing"].split(";") if p],
                "source": row["source"] or None,
            },
        )
    for row in read_csv("official-border-lengths.csv"):
        await session.execute(
            text(
                """
                INSERT INTO official_border_lengths (province_code, border_id, length_km, source)
                SELECT :province, b.id, :km, :source FROM borders b WHERE b.code = :border
                ON CONFLICT DO NOTHING
                """
            ),
            {
                "province": slug(row["province"]),
                "border": row["border"],
                "km": float(row["length_km"]),
                "source": row["source"],
            },
        )

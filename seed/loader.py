"""Load the demo dataset. Idempotent: run it twice and the database is the same.

Everything placed here is ILLUSTRATIVE, not survey data:
- the border lines are Natural Earth 1:10m (vertices 1-3 km apart);
- VN-CN main markers 0..1378 are spread along the line by interpolating geodesic chainage
  between the five anchors in data/vn-cn-marker-anchors.csv; auxiliary markers k/j sit
  between k and k+1; the banks of a double marker stand 25 m either side of the line;
- VN-LA markers 1..792 are spaced evenly along its line;
- the units (provinces, districts, communes, stations) are drawn in seed/units.py.
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass
from itertools import pairwise
from pathlib import Path

import numpy as np
import shapely
from pyproj import Transformer
from pyproj.enums import TransformDirection
from shapely.geometry import LineString
from shapely.geometry.base import BaseGeometry
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from app.areas.placement import UNIT_REACH_M, unit_at
from app.borders.service import (
    BorderLine,
    ZoneSetting,
    upsert_border,
    upsert_zone,
)
from app.geo.marker_codes import MarkerCode, parse_marker_code
from app.markers.service import rebuild_segments
from app.text import fold
from seed.incidents import read_csv

DATA = Path(__file__).parent / "data"
ILLUSTRATIVE = "illustrative: generated for the demo, not survey data"
BANK_OFFSET_M = 25.0

# Metric CRS for the demo geometry work (UTM 48N covers 102-108 E).
_UTM = Transformer.from_crs(4326, 32648, always_xy=True)


def to_utm(geom: BaseGeometry) -> BaseGeometry:
    return shapely.transform(geom, lambda xy: np.column_stack(_UTM.transform(xy[:, 0], xy[:, 1])))


def to_wgs84(geom: BaseGeometry) -> BaseGeometry:
    return shapely.transform(
        geom,
        lambda xy: np.column_stack(
            _UTM.transform(xy[:, 0], xy[:, 1], direction=TransformDirection.INVERSE)
        ),
    )


def slug(name: str) -> str:
    """`Tràng Định` -> `trang-dinh` (unit codes people can type)."""
    return "-".join(fold(name).split())


@dataclass(frozen=True)
class BorderSpec:
    code: str
    name_vi: str
    name_en: str
    official_length_km: float | None
    vn_side: str  # "left" or "right" of the line's direction
    main_markers: str  # "anchors", a count to space evenly, or "0"


def border_specs() -> dict[str, BorderSpec]:
    return {
        row["border"]: BorderSpec(
            row["border"],
            row["name_vi"],
            row["name_en"],
            float(row["official_length_km"]) if row["official_length_km"] else None,
            row["vn_side"],
            row["main_markers"],
        )
        for row in read_csv("borders.csv")
    }


def border_lines() -> dict[str, tuple[LineString, dict[str, str]]]:
    features = json.loads((DATA / "borders-natural-earth-10m.geojson").read_text("utf-8"))[
        "features"
    ]
    return {
        f["properties"]["border"]: (LineString(f["geometry"]["coordinates"]), f["properties"])
        for f in features
    }


@dataclass(frozen=True)
class DemoMarker:
    code: MarkerCode
    measure_m: float  # chainage along the measured line
    basis: str


async def _anchor_measures(session: AsyncSession, border_id: int) -> list[tuple[int, float]]:
    anchors = []
    for row in read_csv("vn-cn-marker-anchors.csv"):
        m = (
            await session.execute(
                text(
                    "SELECT ST_InterpolatePoint(measured_geom, "
                    "ST_SetSRID(ST_MakePoint(:x, :y), 4326)) FROM borders WHERE id = :b"
                ),
                {"x": float(row["lon"]), "y": float(row["lat"]), "b": border_id},
            )
        ).scalar_one()
        anchors.append((int(row["marker"]), float(m)))
    return sorted(anchors)


def interpolate_main(anchors: list[tuple[int, float]]) -> dict[int, float]:
    """Chainage of every main number between the first and last anchor, linear by number."""
    measures: dict[int, float] = {}
    for (n0, m0), (n1, m1) in pairwise(anchors):
        for n in range(n0, n1 + 1):
            measures[n] = m0 + (m1 - m0) * (n - n0) / (n1 - n0)
    return measures


def plan_markers(main: dict[int, float], extras: list[tuple[str, str]]) -> list[DemoMarker]:
    """Main markers plus the named auxiliary and bank markers; a double marker replaces the
    plain main marker of its number (N(1)/N(2) stand where N would)."""
    extra_codes = [(parse_marker_code(code), basis) for code, basis in extras]
    doubled = {(c.number, c.aux) for c, _ in extra_codes if c.bank}
    aux_count: dict[int, int] = defaultdict(int)
    for c, _ in extra_codes:
        if c.aux:
            aux_count[c.number] = max(aux_count[c.number], c.aux)
    planned = [
        DemoMarker(MarkerCode(n), m, ILLUSTRATIVE) for n, m in main.items() if (n, 0) not in doubled
    ]
    for c, basis in extra_codes:
        base = main[c.number]
        if c.aux:
            following = main.get(c.number + 1, base)
            base += (following - base) * c.aux / (aux_count[c.number] + 1)
        planned.append(DemoMarker(c, base, f"{ILLUSTRATIVE}; {basis}"))
    return sorted(planned, key=lambda d: d.code)


async def _insert_markers(session: AsyncSession, border_id: int, markers: list[DemoMarker]) -> None:
    """Bulk insert: place each at its measure, banks 25 m off the line (1 left, 2 right)."""
    await session.execute(
        text(
            f"""
            WITH planned AS (
              SELECT * FROM unnest(CAST(:codes AS text[]), CAST(:numbers AS int[]),
                                   CAST(:auxes AS int[]), CAST(:banks AS int[]),
                                   CAST(:kinds AS text[]), CAST(:measures AS float8[]),
                                   CAST(:notes AS text[]))
                AS t(code, number, aux_index, bank_index, kind, m, notes)
            ), on_line AS (
              SELECT p.*, b.id AS border_id,
                bordermark_point_at(b.measured_geom, p.m) AS pt,
                ST_Azimuth(bordermark_point_at(b.measured_geom, greatest(p.m - 10, 0)),
                           bordermark_point_at(b.measured_geom, least(p.m + 10, b.length_m)))
                  AS azimuth
              FROM planned p, borders b WHERE b.id = :b
            ), placed AS (
              SELECT o.*, CASE
                  WHEN o.bank_index = 0 THEN o.pt
                  -- bank (1) to the left of the direction, (2) to the right, (3) on the line
                  WHEN o.bank_index = 1
                    THEN ST_Project(o.pt::geography, :off, o.azimuth - pi() / 2)::geometry
                  WHEN o.bank_index = 2
                    THEN ST_Project(o.pt::geography, :off, o.azimuth + pi() / 2)::geometry
                  ELSE o.pt END AS geom
              FROM on_line o
            )
            INSERT INTO markers (border_id, code, number, aux_index, bank_index, kind, geom,
                condition, notes, line_fraction, chainage_m, offset_from_line_m,
                province_code, illustrative)
            SELECT p.border_id, p.code, p.number, p.aux_index, p.bank_index, p.kind, p.geom,
                   'intact', p.notes,
                   ST_LineLocatePoint(b.geom, p.geom), ST_InterpolatePoint(b.measured_geom, p.geom),
                   ST_Distance(b.geom::geography, p.geom::geography),
                   {unit_at("province", geom="p.geom", day="current_date")},
                   TRUE
            FROM placed p JOIN borders b ON b.id = p.border_id
            ON CONFLICT DO NOTHING
            """  # noqa: S608
        ),
        {
            "b": border_id,
            "off": BANK_OFFSET_M,
            "reach": UNIT_REACH_M,
            "codes": [str(d.code) for d in markers],
            "numbers": [d.code.number for d in markers],
            "auxes": [d.code.aux for d in markers],
            "banks": [d.code.bank for d in markers],
            "kinds": [d.code.kind.value for d in markers],
            "measures": [d.measure_m for d in markers],
            "notes": [d.basis for d in markers],
        },
    )


async def _load_breach_rules(session: AsyncSession, ids: dict[str, int]) -> None:
    for row in read_csv("breach-rules.csv"):
        await session.execute(
            text(
                """
                INSERT INTO breach_rules (border_id, category, zone_code, article, summary,
                    exempt_tags)
                VALUES (:b, :category, :zone, :article, :summary, :exempt)
                ON CONFLICT (border_id, category, zone_code, article) DO UPDATE SET
                    summary = EXCLUDED.summary, exempt_tags = EXCLUDED.exempt_tags
                """
            ),
            {
                "b": ids[row["border"]],
                "category": row["category"],
                "zone": row["zone_code"] or None,
                "article": row["article"],
                "summary": row["summary"],
                "exempt": [t for t in row["exempt_tags"].split(";") if t],
            },
        )


async def load_demo(session: AsyncSession) -> dict[str, int]:
    """Load (or top up) the demo dataset in one transaction. Commits."""
    specs = border_specs()
    ids: dict[str, int] = {}
    for code, (line, props) in border_lines().items():
        spec = specs[code]
        ids[code] = await upsert_border(
            session,
            BorderLine(
                code=code,
                name_vi=spec.name_vi,
                name_en=spec.name_en,
                left_country=props["left_country"],
                right_country=props["right_country"],
                coords=[(float(x), float(y)) for x, y in line.coords],
                orientation=props.get("orientation"),
                official_length_km=spec.official_length_km,
                source=props.get("source"),
                accuracy=props.get("accuracy"),
            ),
        )
    for row in read_csv("zones.csv"):
        await upsert_zone(
            session,
            border_id=ids[row["border"]],
            zone=ZoneSetting(
                code=row["code"],
                name_vi=row["name_vi"],
                name_en=row["name_en"],
                distance_m=float(row["distance_m"]),
                article=row["article"] or None,
                description=row["description"] or None,
            ),
        )
    from seed.units import load_demo_admin_units, load_demo_counterparts, load_demo_stations

    await load_demo_admin_units(session)
    await _load_breach_rules(session, ids)
    extras = [
        (r["code"], r["basis"]) for r in read_csv("extra-markers.csv") if r["border"] == "VN-CN"
    ]
    main = interpolate_main(await _anchor_measures(session, ids["VN-CN"]))
    await _insert_markers(session, ids["VN-CN"], plan_markers(main, extras))
    for code, spec in specs.items():
        count = int(spec.main_markers) if spec.main_markers.isdigit() else 0
        if code == "VN-CN" or count == 0:
            continue
        length = float(
            (
                await session.execute(
                    text("SELECT length_m FROM borders WHERE id = :b"), {"b": ids[code]}
                )
            ).scalar_one()
        )
        spaced = {n: length * (n - 1) / (count - 1) for n in range(1, count + 1)}
        await _insert_markers(session, ids[code], plan_markers(spaced, []))
    for border_id in ids.values():
        await rebuild_segments(session, border_id=border_id)
    await load_demo_stations(session)
    await load_demo_counterparts(session)
    await session.commit()
    from seed.cases import link_clearing_sources, load_demo_approvals, load_demo_documents
    from seed.clearing import load_demo_clearing_works
    from seed.crossings import load_demo_crossings
    from seed.disputes import load_demo_disputes
    from seed.incidents import load_demo_incidents
    from seed.inspections import load_demo_inspections
    from seed.surveys import load_demo_surveys

    await load_demo_documents(session)
    await load_demo_incidents(session)
    await load_demo_clearing_works(session)
    await link_clearing_sources(session)
    await load_demo_approvals(session)
    await load_demo_crossings(session)
    await load_demo_inspections(session)
    await load_demo_surveys(session)
    await load_demo_disputes(session)
    counts = (
        await session.execute(
            text(
                "SELECT (SELECT count(*) FROM borders), (SELECT count(*) FROM markers), "
                "(SELECT count(*) FROM segments), (SELECT count(*) FROM admin_units), "
                "(SELECT count(*) FROM incidents), (SELECT count(*) FROM clearing_works)"
            )
        )
    ).one()
    return dict(
        zip(
            ("borders", "markers", "segments", "admin_units", "incidents", "clearing_works"),
            map(int, counts),
            strict=True,
        )
    )


async def database_is_empty(session: AsyncSession) -> bool:
    return not (await session.execute(text("SELECT EXISTS (SELECT 1 FROM borders)"))).scalar_one()

"""Exports read back with real readers: json, csv, and GDAL (pyogrio) for GPKG and KML."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import tempfile
from collections.abc import AsyncGenerator
from pathlib import Path
from typing import Any

import pyogrio
import pytest
import shapely
import shapely.geometry
from asyncpg.exceptions import DivisionByZeroError
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from app.db import create_sessionmaker
from app.errors import exception_chain
from app.exports import writers
from tests.conftest import Tokens, bearer
from tests.incidents.helpers import feature, new_tag, off_line, point


@pytest.fixture
async def tagged(client, tokens: Tokens) -> tuple[str, set[str]]:  # type: ignore[no-untyped-def]
    tag = new_tag()
    ids = set()
    here = await off_line(client, tokens.admin, "1089+300", 20, "VN")
    bodies = [
        feature(
            geometry=point(*here),
            tags=[tag],
            title="Camera giám sát ở Đồng Đăng",
            category="surveillance_equipment",
        ),
        feature(location="VN-CN:1089+100-1089+400", tags=[tag], title="Hàng rào dọc biên"),
        feature(
            location="VN-CN:1090", tags=[tag], title="Mốc 1090 bị nghiêng", category="marker_damage"
        ),
    ]
    for body in bodies:
        r = await client.post("/api/v1/incidents", json=body, headers=bearer(tokens.admin))
        assert r.status_code == 201
        ids.add(r.json()["id"])
    return tag, ids


async def _get(client, tokens: Tokens, path: str, **params: str):  # type: ignore[no-untyped-def]
    r = await client.get(path, params=params, headers=bearer(tokens.analyst))
    assert r.status_code == 200, r.text
    return r


async def test_geojson_export_with_list_filters(client, tokens: Tokens, tagged) -> None:  # type: ignore[no-untyped-def]
    tag, ids = tagged
    r = await _get(client, tokens, "/api/v1/exports/incidents", tag=tag)
    assert r.headers["content-type"] == "application/geo+json"
    assert "attachment" in r.headers["content-disposition"]
    body = json.loads(r.content)
    assert body["type"] == "FeatureCollection"
    assert {f["id"] for f in body["features"]} == ids
    filtered = json.loads(
        (
            await _get(
                client, tokens, "/api/v1/exports/incidents", tag=tag, category="marker_damage"
            )
        ).content
    )
    assert [f["properties"]["title"] for f in filtered["features"]] == ["Mốc 1090 bị nghiêng"]
    empty = json.loads(
        (await _get(client, tokens, "/api/v1/exports/incidents", tag="no-such-tag")).content
    )
    assert empty == {"type": "FeatureCollection", "features": []}


async def test_csv_export(client, tokens: Tokens, tagged) -> None:  # type: ignore[no-untyped-def]
    tag, ids = tagged
    r = await _get(client, tokens, "/api/v1/exports/incidents", tag=tag, format="csv")
    assert r.content.startswith(b"\xef\xbb\xbf")
    rows = list(csv.DictReader(io.StringIO(r.content.decode("utf-8-sig"))))
    assert {row["id"] for row in rows} == ids
    camera = next(row for row in rows if row["category"] == "surveillance_equipment")
    assert camera["title"] == "Camera giám sát ở Đồng Đăng"
    assert camera["wkt"].startswith("POINT") and float(camera["lon"]) > 106
    assert camera["tags"] == tag and camera["province"] == "lang-son"


@pytest.mark.parametrize(("fmt", "driver"), [("gpkg", "GPKG"), ("kml", "LIBKML")])
async def test_gdal_formats_read_back(
    client, tokens: Tokens, tagged, tmp_path: Path, fmt: str, driver: str
) -> None:  # type: ignore[no-untyped-def]
    tag, ids = tagged
    temp_dir = Path(tempfile.gettempdir())
    before = set(temp_dir.glob(f"tmp*.{fmt}"))
    r = await _get(client, tokens, "/api/v1/exports/incidents", tag=tag, format=fmt)
    # GDAL wrote to a temporary file, deleted once the response was sent.
    assert set(temp_dir.glob(f"tmp*.{fmt}")) == before
    path = tmp_path / f"export.{fmt}"
    path.write_bytes(r.content)
    info = pyogrio.read_info(path)
    assert info["driver"] == driver
    assert info["features"] == 3
    _, _, geometry, fields = pyogrio.raw.read(path)
    columns = list(info["fields"])
    ids_read = {str(v) for v in fields[columns.index("id")]}
    assert ids_read == ids
    titles = {str(v) for v in fields[columns.index("title")]}
    assert "Camera giám sát ở Đồng Đăng" in titles
    assert len(geometry) == 3
    # Geometry and CRS read back: lon/lat in WGS 84, each incident where the GeoJSON export
    # (and the database) puts it, to the 7 decimals the service writes.
    assert info["crs"] == "EPSG:4326"
    exported = json.loads(
        (await _get(client, tokens, "/api/v1/exports/incidents", tag=tag)).content
    )
    where = {str(f["id"]): shapely.geometry.shape(f["geometry"]) for f in exported["features"]}
    for incident_id, wkb in zip(fields[columns.index("id")], geometry, strict=True):
        read = shapely.force_2d(shapely.from_wkb(wkb))
        expected = where[str(incident_id)]
        assert read.geom_type == expected.geom_type
        assert read.equals_exact(expected, tolerance=1e-7), (read.wkt, expected.wkt)


@pytest.mark.parametrize("layer", ["markers", "segments", "clearing-works"])
async def test_other_layers(client, tokens: Tokens, tmp_path: Path, layer: str) -> None:
    geo = json.loads(
        (await _get(client, tokens, f"/api/v1/exports/{layer}", border="VN-LA")).content
    )
    rows = list(
        csv.DictReader(
            io.StringIO(
                (
                    await _get(
                        client, tokens, f"/api/v1/exports/{layer}", border="VN-LA", format="csv"
                    )
                ).content.decode("utf-8-sig")
            )
        )
    )
    assert len(geo["features"]) == len(rows)
    gpkg = await _get(client, tokens, f"/api/v1/exports/{layer}", border="VN-LA", format="gpkg")
    path = tmp_path / "layer.gpkg"
    path.write_bytes(gpkg.content)
    assert pyogrio.read_info(path)["features"] == len(rows)
    # Debian's GDAL 3.6 (QGIS 3.22's) opens it without "may only be partially supported".
    opened = subprocess.run(  # noqa: ASYNC221 - a second, in a test
        ["ogrinfo", "-ro", "-so", str(path)], capture_output=True, text=True, check=True
    )
    assert "Warning" not in opened.stderr, opened.stderr
    if layer == "markers":
        assert len(rows) == 792
    kml = await _get(client, tokens, f"/api/v1/exports/{layer}", border="VN-LA", format="kml")
    assert kml.headers["content-type"] == "application/vnd.google-earth.kml+xml"
    path = tmp_path / "layer.kml"
    path.write_bytes(kml.content)
    info = pyogrio.read_info(path)
    assert info["driver"] == "LIBKML" and info["features"] == len(rows)
    _, _, _, fields = pyogrio.raw.read(path)
    assert sorted(str(v) for v in fields[list(info["fields"]).index("id")]) == sorted(
        str(f["id"]) for f in geo["features"]
    )


async def test_kml_is_streamed_and_carries_any_text_gdal_reads_back(
    client, tokens: Tokens, tmp_path: Path
) -> None:
    """Written by PostgreSQL, not GDAL: markup, newlines, tabs and a control character in
    the text come back as written (the control character, which XML cannot hold, dropped);
    the geometry as the GeoJSON gives it."""
    tag = new_tag()
    here = await off_line(client, tokens.admin, "1089+300", 20, "VN")
    description = 'Dòng 1 <b>&amp; "x"</b>\nDòng 2\tcột\r\x07hết'
    body = feature(
        geometry=point(*here), tags=[tag, "b<c"], title="A & B <C>", description=description
    )
    assert (
        await client.post("/api/v1/incidents", json=body, headers=bearer(tokens.admin))
    ).status_code == 201
    r = await _get(client, tokens, "/api/v1/exports/incidents", tag=tag, format="kml")
    assert r.content.startswith(b'<?xml version="1.0" encoding="UTF-8"?>')
    path = tmp_path / "one.kml"
    path.write_bytes(r.content)
    info = pyogrio.read_info(path)
    _, _, geometry, fields = pyogrio.raw.read(path)
    values = {name: fields[i][0] for i, name in enumerate(info["fields"])}
    assert values["id"] == body["id"]
    assert values["title"] == "A & B <C>"
    assert values["description"] == description.replace("\x07", "")
    assert values["tags"] == ";".join(sorted([tag, "b<c"]))
    from shapely import wkb

    assert wkb.loads(bytes(geometry[0])).coords[0] == pytest.approx(here, abs=1e-7)


async def test_exports_are_audited_and_scoped(client, db, tokens: Tokens, tagged) -> None:  # type: ignore[no-untyped-def]
    tag, _ = tagged
    await _get(client, tokens, "/api/v1/exports/incidents", tag=tag, format="csv")
    entry = (
        await db.execute(
            text("SELECT action, entity_type, detail FROM audit_log ORDER BY id DESC LIMIT 1")
        )
    ).one()
    assert entry.action == "export" and entry.entity_type == "incidents"
    assert entry.detail["format"] == "csv" and tag in entry.detail["query"]
    other = await client.get(
        "/api/v1/exports/incidents", params={"tag": tag}, headers=bearer(tokens.officer_other)
    )
    assert json.loads(other.content)["features"] == []  # Lạng Sơn events are not Cao Bằng's
    assert (await client.get("/api/v1/exports/incidents")).status_code == 401
    bad = await client.get(
        "/api/v1/exports/incidents", params={"format": "shp"}, headers=bearer(tokens.analyst)
    )
    assert bad.status_code == 422


TRICKY = 'Rào "B2" \\ C:\\new\\table\n\tdòng hai — 🚧 \\\\ end\\'


async def test_geojson_export_keeps_escapes_and_control_characters(client, tokens: Tokens) -> None:  # type: ignore[no-untyped-def]
    """The export is COPY output turned back into JSON (copy_stream.py): backslashes,
    quotes, newlines, tabs and non-ASCII text come out as the API stores them."""
    tag = new_tag()
    here = await off_line(client, tokens.admin, "1089+300", 25, "VN")
    created = await client.post(
        "/api/v1/incidents",
        json=feature(geometry=point(*here), tags=[tag], title=TRICKY[:150], description=TRICKY * 3),
        headers=bearer(tokens.admin),
    )
    assert created.status_code == 201, created.text
    stored = created.json()["properties"]
    body = json.loads((await _get(client, tokens, "/api/v1/exports/incidents", tag=tag)).content)
    [exported] = body["features"]
    assert exported["properties"]["title"] == stored["title"] == TRICKY[:150]
    assert exported["properties"]["description"] == stored["description"] == TRICKY * 3


@pytest.mark.parametrize("fmt", ["geojson", "csv", "gpkg"])
async def test_nul_in_a_filter_is_refused_before_the_export_starts(
    client, db, tokens: Tokens, fmt: str
) -> None:  # type: ignore[no-untyped-def]
    """The fuzzer found `?tag=%00`: PostgreSQL refused it once the GeoJSON stream had sent
    its headers, and the client saw a broken download. It is a 422 problem, with no audit
    entry of an export that never ran."""
    last = (await db.execute(text("SELECT coalesce(max(id), 0) FROM audit_log"))).scalar_one()
    r = await client.get(
        "/api/v1/exports/incidents",
        params={"tag": "a\x00b", "format": fmt},
        headers=bearer(tokens.analyst),
    )
    assert r.status_code == 422, r.text
    assert r.headers["content-type"] == "application/problem+json"
    assert [e["field"] for e in r.json()["errors"]] == ["tag"]
    audited = await db.execute(
        text("SELECT count(*) FROM audit_log WHERE id > :last AND action = 'export'"),
        {"last": last},
    )
    assert audited.scalar_one() == 0


@pytest.mark.parametrize("stream", ["geojson", "csv"])
async def test_a_stream_runs_its_statement_before_the_response_exists(
    engine: AsyncEngine, stream: str
) -> None:
    """`writers.started` returns only once the statement has run: an error in it raises
    there (and becomes a problem response) instead of cutting a sent download short."""
    sessionmaker = create_sessionmaker(engine)

    def export_of(rows_sql: str) -> AsyncGenerator[bytes, None]:
        if stream == "csv":
            return writers.csv_stream(sessionmaker, rows_sql, {}, ["n"])
        features = f"SELECT json_build_object('n', n) FROM ({rows_sql}) r"
        return writers.geojson_stream(sessionmaker, features, {})

    broken = (
        "SELECT 1 / (2 - count(*)) AS n, 0 AS lon, 0 AS lat, '' AS wkt FROM (VALUES (1), (2)) v"
    )
    with pytest.raises(Exception) as raised:  # the driver's error, wrapped or not
        await writers.started(export_of(broken))
    assert any(isinstance(e, DivisionByZeroError) for e in exception_chain(raised.value))
    body = export_of("SELECT 7 AS n, 0 AS lon, 0 AS lat, '' AS wkt")
    out = b"".join([chunk async for chunk in await writers.started(body)])
    assert (b'{"n" : 7}' in out) if stream == "geojson" else out.endswith(b"7,0,0,\r\n")


# OWASP's CSV injection cases: what Excel or LibreOffice would run as a formula.
HOSTILE_TITLES = ['=HYPERLINK("http://x","y")', "+cmd|' /C calc'!A0", "@SUM(1)", "-2+3",
                  "\tTab=1", "\r=1"]  # fmt: skip


async def test_csv_cells_a_spreadsheet_would_evaluate_are_text(client, tokens: Tokens) -> None:
    """Titles, tags and a marker's notes that start like a formula come out of CSV with a
    leading apostrophe (the spreadsheet shows the text, runs nothing); JSON says what was
    written, unchanged."""
    tag = new_tag()
    here = await off_line(client, tokens.admin, "1089+300", 20, "VN")
    for title in HOSTILE_TITLES[:4]:  # (the others' tab and return are trimmed on the way in)
        body = feature(geometry=point(*here), tags=[tag, "=1+1"], title=title)
        r = await client.post("/api/v1/incidents", json=body, headers=bearer(tokens.admin))
        assert r.status_code == 201, r.text
    stored = set(HOSTILE_TITLES[:4])
    as_csv = await _get(client, tokens, "/api/v1/exports/incidents", tag=tag, format="csv")
    rows = list(csv.DictReader(io.StringIO(as_csv.content.decode("utf-8-sig"))))
    assert {row["title"] for row in rows} == {"'" + t for t in stored}
    assert {row["tags"] for row in rows} == {"'" + ";".join(sorted([tag, "=1+1"]))}
    assert all(float(row["lon"]) > 0 for row in rows)  # numbers stay numbers
    as_json = json.loads((await _get(client, tokens, "/api/v1/exports/incidents", tag=tag)).content)
    assert {f["properties"]["title"] for f in as_json["features"]} == stored

    marker = "/api/v1/borders/VN-LA/markers/7"
    r = await client.patch(marker, json={"notes": "=cmd()"}, headers=bearer(tokens.admin))
    assert r.status_code == 200, r.text
    markers = await _get(client, tokens, "/api/v1/exports/markers", border="VN-LA", format="csv")
    notes = {
        row["code"]: row["notes"]
        for row in csv.DictReader(io.StringIO(markers.content.decode("utf-8-sig")))
    }
    assert notes["7"] == "'=cmd()"


def test_xlsx_cells_starting_like_a_formula_are_strings(tmp_path: Path) -> None:
    """openpyxl stores a str starting with = as a formula unless told otherwise."""
    from openpyxl import load_workbook

    from app.reports.formats import tables_xlsx
    from app.reports.service import Table

    table = Table("t", ["district", "count"], [{"district": t, "count": 1} for t in HOSTILE_TITLES])
    path = tmp_path / "r.xlsx"
    path.write_bytes(tables_xlsx([table], title="t"))
    sheet = load_workbook(path)["t"]
    cells = [row[0] for row in sheet.iter_rows(min_row=2)]
    assert [c.value for c in cells] == HOSTILE_TITLES
    assert {c.data_type for c in cells} == {"s"}
    assert {row[1].data_type for row in sheet.iter_rows(min_row=2)} == {"n"}


def test_a_leading_tab_or_return_is_neutralised_too() -> None:
    from app.text import spreadsheet_text

    assert spreadsheet_text("\tTab=1") == "'\tTab=1"
    assert spreadsheet_text("\r=1") == "'\r=1"
    assert spreadsheet_text("Hàng rào -2") == "Hàng rào -2"  # only a leading trigger counts


@pytest.mark.parametrize(
    ("layer", "name_of", "style_of"),
    [
        (
            "incidents",
            lambda f: f["properties"]["title"],
            lambda f: f"incident-{f['properties']['status']}-",
        ),
        (
            "markers",
            lambda f: f"{f['properties']['border']} {f['properties']['code']}",
            lambda f: f"marker-{f['properties']['condition']}",
        ),
        ("clearing-works", None, lambda f: f"work-{f['properties']['status']}"),
    ],
)
async def test_kml_placemarks_are_named_and_styled(
    client, tokens: Tokens, layer: str, name_of: Any, style_of: Any
) -> None:
    """Google Earth shows each placemark's <name> and draws it by its <styleUrl>: every
    placemark has both, and each style it names is defined in the document."""
    import xml.etree.ElementTree as ET

    geo = json.loads((await _get(client, tokens, f"/api/v1/exports/{layer}")).content)
    by_id = {str(f["id"]): f for f in geo["features"]}
    kml = await _get(client, tokens, f"/api/v1/exports/{layer}", format="kml")
    ns = {"k": "http://www.opengis.net/kml/2.2"}
    root = ET.fromstring(kml.content)  # noqa: S314 - our own export
    styles = {s.get("id") for s in root.iterfind(".//k:Style", ns)}
    placemarks = list(root.iterfind(".//k:Placemark", ns))
    assert len(placemarks) == len(by_id) > 0
    for placemark in placemarks:
        found = by_id[placemark.get("id") or ""]
        name = placemark.findtext("k:name", namespaces=ns)
        style = placemark.findtext("k:styleUrl", namespaces=ns) or ""
        assert name, placemark.get("id")
        if name_of is not None:
            assert name == name_of(found)
        assert style.startswith("#" + style_of(found)), (style, found["properties"])
        assert style[1:] in styles


async def test_every_export_layer_in_kml_is_read_back_by_gdal(
    client, tokens: Tokens, tmp_path: Path
) -> None:
    """Every export the OpenAPI document lists (not the service's own registry), in KML:
    GDAL's LIBKML driver reads each placemark back, with its id and its geometry where the
    GeoJSON export puts it."""
    paths = (await client.get("/openapi.json")).json()["paths"]
    layers = sorted(p.rsplit("/", 1)[1] for p in paths if p.startswith("/api/v1/exports/"))
    assert {"incidents", "markers", "units", "crossings", "disputed-areas"} <= set(layers)
    read_any = 0
    for layer in layers:
        geo = json.loads((await _get(client, tokens, f"/api/v1/exports/{layer}")).content)
        kml = await _get(client, tokens, f"/api/v1/exports/{layer}", format="kml")
        assert kml.headers["content-type"] == "application/vnd.google-earth.kml+xml", layer
        if not geo["features"]:
            assert b"<Placemark" not in kml.content, layer
            continue
        path = tmp_path / f"{layer}.kml"
        path.write_bytes(kml.content)
        info = pyogrio.read_info(path)
        assert info["driver"] == "LIBKML" and info["features"] == len(geo["features"]), layer
        _, _, geometry, fields = pyogrio.raw.read(path)
        where = {str(f["id"]): shapely.geometry.shape(f["geometry"]) for f in geo["features"]}
        ids = [str(v) for v in fields[list(info["fields"]).index("id")]]
        assert sorted(ids) == sorted(where), layer
        for feature_id, wkb in zip(ids, geometry, strict=True):
            read = shapely.force_2d(shapely.from_wkb(wkb))
            expected = where[feature_id]
            assert read.equals_exact(expected, tolerance=1e-7), (layer, feature_id)
        read_any += 1
    assert read_any >= len(layers) - 1  # the demo holds no patrol

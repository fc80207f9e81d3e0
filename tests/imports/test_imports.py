"""Imports: row-level errors with numbers, dry run, idempotent re-import, three formats,
coordinates in a VN-2000 CRS; the CLI against a database it really writes to."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

import numpy as np
import pyogrio
import pytest
from pyproj import Transformer
from shapely.geometry import Point
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from tests.conftest import Tokens, bearer
from tests.incidents.helpers import off_line

CSV = """border,code,lon,lat,condition,notes
VN-CN,1089/1,{x},{y},damaged,Mốc phụ mới
VN-CN,10x,106.70,21.98,intact,
VN-CN,1089/2,106.70,25.0,intact,
VN-CN,1089/3,{x},{y},broken,
"""


async def _post(
    client, tokens: Tokens, name: str, content: bytes, who: str = "admin", **params: str
):  # type: ignore[no-untyped-def]
    return await client.post(
        "/api/v1/markers:import",
        params=params,
        files={"file": (name, content, "application/octet-stream")},
        headers=bearer(tokens.of(who)),
    )


async def test_csv_rows_are_reported_by_number(client, db, tokens: Tokens) -> None:
    x, y = await off_line(client, tokens.admin, "1089+300", 10, "VN")
    content = CSV.format(x=x, y=y).encode("utf-8")
    dry = await _post(client, tokens, "markers.csv", content, dry_run="true")
    assert dry.status_code == 200, dry.text
    report = dry.json()
    assert (report["rows"], report["created"], report["dry_run"]) == (4, 1, True)
    assert [(e["row"], e["field"]) for e in report["errors"]] == [
        (2, "code"),
        (3, "geometry"),
        (4, "condition"),
    ]
    assert "1088/2" in report["errors"][0]["message"]  # says what a valid code looks like
    stored = await db.execute(text("SELECT count(*) FROM markers WHERE code = '1089/1'"))
    assert stored.scalar_one() == 0  # a dry run writes nothing

    real = (await _post(client, tokens, "markers.csv", content)).json()
    assert (real["created"], len(real["errors"])) == (1, 3)
    row = (
        await db.execute(text("SELECT condition, notes FROM markers WHERE code = '1089/1'"))
    ).one()
    assert tuple(row) == ("damaged", "Mốc phụ mới")
    segments = await client.get(
        "/api/v1/segments",
        params={"border": "VN-CN", "from": "1089", "to": "1090"},
        headers=bearer(tokens.admin),
    )
    assert [f["properties"]["ref"] for f in segments.json()["features"]] == [
        "1089-1089/1",
        "1089/1-1090",
    ]

    again = (await _post(client, tokens, "markers.csv", content)).json()
    assert (again["created"], again["updated"], again["unchanged"]) == (0, 0, 1)
    changed = (
        await _post(client, tokens, "markers.csv", content.replace(b"damaged", b"destroyed"))
    ).json()
    assert changed["updated"] == 1


async def test_geojson_in_vn2000_and_geopackage(client, db, tokens: Tokens, tmp_path: Path) -> None:
    lon, lat = await off_line(client, tokens.admin, "1089+300", 10, "VN")
    # The input made by pyproj directly, not by the service's own app.geo.crs.
    x, y = Transformer.from_crs(4326, 9215, always_xy=True).transform(lon, lat)
    collection = {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "geometry": {"type": "Point", "coordinates": [x, y]},
                "properties": {"border": "VN-CN", "code": "M1089/1", "condition": "at_risk"},
            },
        ],
    }
    r = await _post(client, tokens, "m.geojson", json.dumps(collection).encode(), crs="EPSG:9215")
    assert r.json()["created"] == 1, r.text
    got = (
        await db.execute(text("SELECT ST_X(geom), ST_Y(geom) FROM markers WHERE code = '1089/1'"))
    ).one()
    assert list(got) == pytest.approx([lon, lat], abs=1e-6)
    # The same marker from a GeoPackage: already there, unchanged.
    path = tmp_path / "m.gpkg"
    pyogrio.raw.write(
        path,
        np.array([Point(lon, lat).wkb], dtype=object),
        [
            np.array(["VN-CN"], dtype=object),
            np.array(["1089/1"], dtype=object),
            np.array(["at_risk"], dtype=object),
        ],
        ["border", "code", "condition"],
        layer="markers",
        driver="GPKG",
        geometry_type="Point",
        crs="EPSG:4326",
    )
    r2 = await _post(client, tokens, "m.gpkg", path.read_bytes())
    assert (r2.json()["created"], r2.json()["unchanged"]) == (0, 1), r2.text


async def test_import_refusals(client, tokens: Tokens) -> None:
    assert (
        await _post(client, tokens, "m.csv", b"border,code\n", who="officer")
    ).status_code == 403
    assert (await _post(client, tokens, "m.shp", b"x")).status_code == 422
    assert (await _post(client, tokens, "m.geojson", b"{not json")).status_code == 422


def _cli(url: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DATABASE_URL": url, "BORDERMARK_ENV": "test"}
    return subprocess.run(
        [sys.executable, "-m", "app.cli", "import", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


async def test_cli_imports_incidents_and_works(scratch_url: str, tmp_path: Path) -> None:
    incident_id = str(uuid.uuid4())
    incidents = {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "geometry": {"type": "Point", "coordinates": [106.7003, 21.9843]},
                "properties": {
                    "id": incident_id,
                    "category": "fence",
                    "title": "Hàng rào (nhập từ tệp)",
                    "occurred_at": "2024-05-01T08:00:00+07:00",
                    "tags": "nhap;thu",
                },
            },
            {
                "type": "Feature",
                "geometry": {"type": "Point", "coordinates": [106.7003, 21.9843]},
                "properties": {
                    "id": str(uuid.uuid4()),
                    "category": "ufo",
                    "title": "x",
                    "occurred_at": "2024-05-01T08:00:00+07:00",
                },
            },
        ],
    }
    path = tmp_path / "incidents.geojson"
    path.write_text(json.dumps(incidents, ensure_ascii=False), encoding="utf-8")
    dry = _cli(scratch_url, "incidents", str(path), "--dry-run")
    assert (
        dry.returncode == 1
        and "row 2: properties.category" in dry.stdout
        and "would import 2 rows" in dry.stdout
    )
    assert "rows/s" in dry.stderr  # the progress bar, with its rate
    first = _cli(scratch_url, "incidents", str(path))
    assert "1 created" in first.stdout, first.stdout + first.stderr
    again = _cli(scratch_url, "incidents", str(path))
    assert "0 created" in again.stdout and "1 unchanged" in again.stdout

    works = tmp_path / "works.csv"
    works.write_text(
        "range,kind,planned_start,status\nVN-CN:1042-1043,re_clearing,2021-03-01,planned\nVN-CN:1043-1042,re_clearing,2021-03-01,planned\n",
        encoding="utf-8",
    )
    result = _cli(scratch_url, "clearing-works", str(works))
    assert (
        "1 created" in result.stdout
        and "row 2: range" in result.stdout
        and "runs backwards" in result.stdout
    )
    assert "1 unchanged" in _cli(scratch_url, "clearing-works", str(works)).stdout

    engine = create_async_engine(scratch_url)
    async with engine.connect() as conn:
        tags = (
            await conn.execute(text("SELECT tags FROM incidents WHERE id = :i"), {"i": incident_id})
        ).scalar_one()
        assert tags == ["nhap", "thu"]
        works_count = (
            await conn.execute(
                text("SELECT count(*) FROM clearing_works WHERE range_ref = 'VN-CN:1042-1043'")
            )
        ).scalar_one()
        assert works_count == 1
    await engine.dispose()


EXPORTED = [
    ("incidents", "incidents", {}),
    ("markers", "markers", {"border": "VN-LA"}),
    ("clearing-works", "clearing-works", {}),
]


@pytest.mark.parametrize("fmt", ["geojson", "csv", "gpkg", "kml"])
async def test_the_services_own_exports_import_back_unchanged(
    scratch_url: str, database: tuple[str, Tokens], tmp_path: Path, fmt: str
) -> None:
    """docs/analysts.md: importing changes nothing already there. Each export, each format,
    imported with the CLI: every row unchanged, none refused; an edited row is refused
    with a message that says what differs and what to do."""
    import httpx

    from tests.conftest import app_on, serving

    token = database[1].admin
    async with (
        serving(app_on(scratch_url, tmp_path)) as base,
        httpx.AsyncClient(base_url=base, headers=bearer(token), timeout=120) as http,
    ):
        for layer, kind, params in EXPORTED:
            r = await http.get(f"/api/v1/exports/{layer}", params={**params, "format": fmt})
            assert r.status_code == 200, r.text
            path = tmp_path / f"{layer}.{fmt}"
            path.write_bytes(r.content)
            rows = pyogrio.read_info(path)["features"]
            result = _cli(scratch_url, kind, str(path))
            assert result.returncode == 0, result.stdout + result.stderr
            assert f"0 created, 0 updated, {rows} unchanged, 0 refused" in result.stdout, (
                layer,
                result.stdout,
            )
    if fmt != "geojson":
        return
    exported = json.loads((tmp_path / "incidents.geojson").read_text(encoding="utf-8"))
    exported["features"][0]["properties"]["title"] += " (sửa)"
    edited = tmp_path / "edited.geojson"
    edited.write_text(json.dumps(exported, ensure_ascii=False), encoding="utf-8")
    refused = _cli(scratch_url, "incidents", str(edited))
    assert refused.returncode == 1
    assert "row 1: incident" in refused.stdout and "differs in title" in refused.stdout
    assert "PATCH /api/v1/incidents/" in refused.stdout and "row: row:" not in refused.stdout

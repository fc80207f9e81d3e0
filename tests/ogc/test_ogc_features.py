"""OGC API Features over HTTP, and GDAL's OAPIF driver reading it from a live server."""

from __future__ import annotations

import asyncio
import json
import os
import uuid

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.caller import Caller
from app.auth.models import Role
from app.db import fetch_rows
from app.geojson import page_features
from app.layers import LAYERS
from app.ogc import statements as ogc_statements
from tests.conftest import Tokens, bearer
from tests.incidents.helpers import feature


async def test_landing_conformance_collections(client, tokens: Tokens) -> None:
    landing = (await client.get("/ogc", headers=bearer(tokens.analyst))).json()
    rels = {link["rel"] for link in landing["links"]}
    assert {"self", "service-desc", "conformance", "data"} <= rels
    conformance = (await client.get("/ogc/conformance", headers=bearer(tokens.analyst))).json()
    assert (
        "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core" in conformance["conformsTo"]
    )
    collections = (await client.get("/ogc/collections", headers=bearer(tokens.analyst))).json()[
        "collections"
    ]
    assert [c["id"] for c in collections] == [
        "incidents",
        "markers",
        "segments",
        "clearing-works",
        "approvals",
        "crossings",
        "survey-areas",
        "patrols",
        "marker-inspections",
        "marker-repairs",
        "disputed-areas",
        "borders",
        "districts",
        "incidents-points",
        "incidents-lines",
        "incidents-areas",
    ]
    markers = next(c for c in collections if c["id"] == "markers")
    west, south, east, north = markers["extent"]["spatial"]["bbox"][0]
    assert 102 < west < east < 109 and 8 < south < north < 24
    assert "temporal" in next(c for c in collections if c["id"] == "incidents")["extent"]
    assert (
        await client.get("/ogc/collections/nope", headers=bearer(tokens.analyst))
    ).status_code == 404
    assert (await client.get("/ogc/collections")).status_code == 401


async def _marker_1089(client, tokens: Tokens) -> list[float]:  # type: ignore[no-untyped-def]
    """Marker 1089's lon/lat, read through the markers collection."""
    marker = (
        await client.get(
            "/ogc/collections/markers/items",
            params={"filter": "code = '1089'", "limit": 1},
            headers=bearer(tokens.analyst),
        )
    ).json()["features"][0]
    return [float(v) for v in marker["geometry"]["coordinates"]]


@pytest.mark.parametrize(("radius_m", "half_box"), [(5000, None), (None, 0.02), (20000, 0.1)])
async def test_the_page_statement_the_bench_runs_is_the_one_items_serves(
    client, tokens: Tokens, db: AsyncSession, radius_m: int | None, half_box: float | None
) -> None:
    """The bench times items_page_statement from asyncpg (bench/floors.py) as the SQL floor
    of the OGC items requests: it must be what the service runs for them, the same features."""
    lon, lat = await _marker_1089(client, tokens)
    query: dict[str, str | int] = {"limit": 100}
    cql_text = bbox = None
    if radius_m:
        cql_text = query["filter"] = f"S_DWITHIN(geometry, POINT({lon} {lat}), {radius_m}, meters)"
    if half_box:
        bbox = [lon - half_box, lat - half_box, lon + half_box, lat + half_box]
        query["bbox"] = ",".join(map(str, bbox))
    served = await client.get(
        "/ogc/collections/incidents/items", params=query, headers=bearer(tokens.analyst)
    )
    assert served.status_code == 200, served.text
    features = served.json()["features"]
    assert 0 < len(features) < 100, "the demo data has some incidents near marker 1089"
    analyst = Caller(token_id=None, name="bench", role=Role.analyst)
    statement = ogc_statements.items_page_statement(
        LAYERS["incidents"], analyst, limit=100, bbox=bbox, cql_text=cql_text
    )
    page, has_next = page_features(await fetch_rows(db, statement.text, statement.params), 100)
    assert [json.loads(f) for f in page] == features
    assert has_next is False


async def test_large_collections_extent_is_estimated_and_covers_every_feature(
    client, tokens: Tokens, db: AsyncSession, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Past EXACT_EXTENT_UP_TO_ROWS a collection's extent is PostGIS's estimate, not a scan
    of every row: it still covers every feature, within float4 rounding."""

    async def bbox() -> list[float]:
        got = await client.get("/ogc/collections/markers", headers=bearer(tokens.analyst))
        return [float(v) for v in got.json()["extent"]["spatial"]["bbox"][0]]

    exact = await bbox()
    await db.execute(text("ANALYZE markers"))  # reltuples above the (lowered) threshold
    monkeypatch.setattr(ogc_statements, "EXACT_EXTENT_UP_TO_ROWS", 0)
    estimated = await bbox()
    assert estimated != exact  # the estimate (single precision) answered, not ST_Extent
    assert estimated[0] <= exact[0] and estimated[1] <= exact[1]
    assert estimated[2] >= exact[2] and estimated[3] >= exact[3]
    assert all(abs(e - x) < 1e-3 for e, x in zip(estimated, exact, strict=True))
    first, last = (
        await db.execute(text("SELECT min(ST_X(geom)), max(ST_X(geom)) FROM markers"))
    ).one()
    assert estimated[0] <= first and last <= estimated[2]


@pytest.mark.parametrize("collection_id", ["incidents", "clearing-works"])
async def test_temporal_extent_comes_off_an_index(db: AsyncSession, collection_id: str) -> None:
    """Map clients read the collections' extents when they connect: a scan of a million
    incidents or tens of thousands of works would be in each of those requests."""
    sql = LAYERS[collection_id].temporal_extent_sql
    assert sql is not None
    await db.execute(text("SET LOCAL enable_seqscan = off"))
    plan = "\n".join(r[0] for r in await db.execute(text(f"EXPLAIN {sql}")))
    assert "Seq Scan" not in plan and "Index" in plan, plan


async def test_clearing_works_temporal_extent_is_when_they_began(
    client, tokens: Tokens, db: AsyncSession
) -> None:
    """A work began on its actual start, else is to on its planned one."""
    first, last = (
        await db.execute(
            text(
                "SELECT min(coalesce(actual_start, planned_start)), "
                "max(coalesce(actual_start, planned_start)) FROM clearing_works"
            )
        )
    ).one()
    assert first is not None and first < last
    got = await client.get("/ogc/collections/clearing-works", headers=bearer(tokens.analyst))
    [[start, end]] = got.json()["extent"]["temporal"]["interval"]
    assert (start[:10], end[:10]) == (first.isoformat(), last.isoformat())
    assert start.endswith("+00:00") and "T00:00:00" in start


async def test_items_paging_bbox_and_datetime(client, tokens: Tokens) -> None:
    url = "/ogc/collections/markers/items?limit=500"
    seen: list[int] = []
    first = True
    while url:
        r = await client.get(url, headers=bearer(tokens.analyst))
        assert r.headers["content-type"] == "application/geo+json"
        body = r.json()
        assert body["numberReturned"] == len(body["features"])
        seen += [f["id"] for f in body["features"]]
        url = next((link["href"] for link in body["links"] if link["rel"] == "next"), None)
        # No COUNT on every page: the total comes with the first page of the whole
        # collection (QGIS's feature count) and the last (free there), not between.
        assert ("numberMatched" in body) == (first or url is None)
        first = False
    assert len(seen) == len(set(seen)) == body["numberMatched"] == 2187
    counted = (
        await client.get(
            "/ogc/collections/markers/items",
            params={"limit": 5, "count": "true"},
            headers=bearer(tokens.analyst),
        )
    ).json()
    assert counted["numberMatched"] == 2187 and counted["numberReturned"] == 5
    default = (
        await client.get("/ogc/collections/markers/items", headers=bearer(tokens.analyst))
    ).json()
    assert default["numberReturned"] == 100
    boxed = (
        await client.get(
            "/ogc/collections/markers/items",
            params={"bbox": "106.6,21.9,106.8,22.1", "limit": 1000},
            headers=bearer(tokens.analyst),
        )
    ).json()
    assert boxed["features"] and all(
        106.6 <= f["geometry"]["coordinates"][0] <= 106.8 for f in boxed["features"]
    )
    in_2023 = (
        await client.get(
            "/ogc/collections/incidents/items",
            params={"datetime": "2023-01-01T00:00:00Z/2023-12-31T23:59:59Z", "limit": 100},
            headers=bearer(tokens.analyst),
        )
    ).json()
    assert in_2023["features"] and all(
        f["properties"]["occurred_at"].startswith("2023") for f in in_2023["features"]
    )
    open_end = (
        await client.get(
            "/ogc/collections/incidents/items",
            params={"datetime": "../2020-12-31T00:00:00Z"},
            headers=bearer(tokens.analyst),
        )
    ).json()
    assert all(f["properties"]["occurred_at"] < "2021" for f in open_end["features"])
    for bad in ({"bbox": "1,2,3"}, {"datetime": "yesterday"}, {"limit": "0"}, {"limit": "10001"}):
        assert (
            await client.get(
                "/ogc/collections/markers/items", params=bad, headers=bearer(tokens.analyst)
            )
        ).status_code == 400  # OGC API Features: an invalid parameter value is a 400


async def test_single_item_and_scope(client, tokens: Tokens) -> None:
    first = (
        await client.get(
            "/ogc/collections/incidents/items", params={"limit": 1}, headers=bearer(tokens.analyst)
        )
    ).json()["features"][0]
    one = await client.get(
        f"/ogc/collections/incidents/items/{first['id']}", headers=bearer(tokens.analyst)
    )
    assert one.status_code == 200 and one.json()["id"] == first["id"]
    assert {link["rel"] for link in one.json()["links"]} == {"self", "alternate", "collection"}
    province = first["properties"]["province"]
    outsider = tokens.officer_other if province == "lang-son" else tokens.officer
    assert (
        await client.get(
            f"/ogc/collections/incidents/items/{first['id']}", headers=bearer(outsider)
        )
    ).status_code == 404
    border = await client.get(
        "/ogc/collections/borders/items/VN-CN", headers=bearer(tokens.analyst)
    )
    assert border.json()["geometry"]["type"] == "LineString"


async def _gdal(*args: str, token: str) -> str:
    env = {**os.environ, "GDAL_HTTP_HEADERS": f"Authorization: Bearer {token}"}
    proc = await asyncio.create_subprocess_exec(
        *args, env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    out, err = await asyncio.wait_for(proc.communicate(), timeout=120)
    assert proc.returncode == 0, err.decode()
    return out.decode()


async def test_gdal_reads_every_collection_with_paging(live_server: str, tokens: Tokens) -> None:
    listing = await _gdal("ogrinfo", "-ro", "-so", f"OAPIF:{live_server}", token=tokens.analyst)
    for name in ("incidents", "markers", "segments", "clearing-works", "borders", "districts"):
        assert f": {name} (" in listing or f": {name}\n" in listing, listing
    markers = await _gdal(
        "ogrinfo",
        "-ro",
        "-so",
        "-oo",
        "PAGE_SIZE=300",
        f"OAPIF:{live_server}",
        "markers",
        token=tokens.analyst,
    )
    assert "Feature Count: 2187" in markers
    borders = await _gdal(
        "ogrinfo", "-ro", "-al", "-q", f"OAPIF:{live_server}", "borders", token=tokens.analyst
    )
    assert "VN-CN" in borders and "LINESTRING" in borders
    refused = await asyncio.create_subprocess_exec(
        "ogrinfo",
        "-ro",
        "-so",
        f"OAPIF:{live_server}",
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    await refused.communicate()
    assert refused.returncode != 0  # no token, no data


async def _filtered(
    client, tokens: Tokens, collection: str, flt: str, lang: str | None = None
) -> list[dict]:  # type: ignore[no-untyped-def]
    params = {"filter": flt, "limit": 10000}
    if lang:
        params["filter-lang"] = lang
    r = await client.get(
        f"/ogc/collections/{collection}/items", params=params, headers=bearer(tokens.analyst)
    )
    assert r.status_code == 200, r.text
    return list(r.json()["features"])


async def test_cql2_text_and_json(client, tokens: Tokens) -> None:
    damaged = await _filtered(client, tokens, "incidents", "category = 'marker_damage'")
    assert damaged and all(f["properties"]["category"] == "marker_damage" for f in damaged)
    quoted = await _filtered(
        client, tokens, "incidents", "title LIKE 'Cháy%' AND severity IN ('high', 'critical')"
    )
    assert {f["properties"]["title"] for f in quoted} == {
        "Cháy rừng tại huyện Bảo Lạc",
        "Cháy rừng tại huyện Trùng Khánh",
    }
    spatial = await _filtered(
        client,
        tokens,
        "markers",
        "S_INTERSECTS(geometry, BBOX(106.69, 21.97, 106.71, 21.99)) AND kind = 'auxiliary'",
    )
    assert {f["properties"]["code"] for f in spatial} == {"1088/1", "1088/2"}
    as_json = await _filtered(
        client,
        tokens,
        "markers",
        '{"op": "and", "args": [{"op": ">=", "args": [{"property": "number"}, 1088]}, {"op": "<", "args": [{"property": "number"}, 1090]}, {"op": "=", "args": [{"property": "border"}, "VN-CN"]}]}',
        "cql2-json",
    )
    assert sorted(f["properties"]["code"] for f in as_json) == ["1088", "1088/1", "1088/2", "1089"]
    temporal = await _filtered(
        client,
        tokens,
        "incidents",
        "occurred_at > TIMESTAMP('2023-01-01T00:00:00Z') AND province = 'cao-bang'",
    )
    assert temporal and all(f["properties"]["occurred_at"] >= "2023" for f in temporal)
    escaped = await _filtered(client, tokens, "incidents", "title = 'It''s not there'")
    assert escaped == []


@pytest.mark.parametrize(
    ("flt", "words"),
    [
        ("category = ", "invalid cql2-text"),
        ("password = 'x'", "not queryable"),
        ("category = 'x'; DROP TABLE incidents; --", "invalid"),
        (" OR ".join(["category = 'x'"] * 250), "too complex"),
    ],
)
async def test_bad_filters_are_400(client, tokens: Tokens, flt: str, words: str) -> None:
    r = await client.get(
        "/ogc/collections/incidents/items", params={"filter": flt}, headers=bearer(tokens.analyst)
    )
    assert r.status_code == 400, r.text
    assert words in r.json()["detail"]


async def test_queryables(client, tokens: Tokens) -> None:
    r = await client.get("/ogc/collections/incidents/queryables", headers=bearer(tokens.analyst))
    assert r.headers["content-type"].startswith("application/schema+json")
    props = r.json()["properties"]
    assert props["category"]["type"] == "string" and props["occurred_at"]["format"] == "date-time"
    assert "geometry" in props


async def test_gdal_applies_a_cql2_filter(live_server: str, tokens: Tokens) -> None:
    out = await _gdal(
        "ogrinfo",
        "-ro",
        "-so",
        "-where",
        "category = 'fire'",
        f"OAPIF:{live_server}",
        "incidents",
        token=tokens.analyst,
    )
    assert "Feature Count: 2" in out


async def test_output_crs_and_bbox_crs(client, tokens: Tokens) -> None:
    from pyproj import Transformer

    # The expected coordinates by pyproj directly, not by the service's own app.geo.crs.
    to_tm3 = Transformer.from_crs(4326, 3405, always_xy=True)
    plain = await client.get("/ogc/collections/borders/items/VN-CN", headers=bearer(tokens.analyst))
    assert plain.headers["content-crs"] == "<http://www.opengis.net/def/crs/OGC/1.3/CRS84>"
    lon, lat = plain.json()["geometry"]["coordinates"][200]
    tm3 = await client.get(
        "/ogc/collections/borders/items/VN-CN",
        params={"crs": "http://www.opengis.net/def/crs/EPSG/0/3405"},
        headers=bearer(tokens.analyst),
    )
    assert tm3.headers["content-crs"] == "<http://www.opengis.net/def/crs/EPSG/0/3405>"
    expected = to_tm3.transform(lon, lat)
    assert tm3.json()["geometry"]["coordinates"][200] == pytest.approx(list(expected), abs=0.05)
    # EPSG:4326 in its own axis order: latitude first.
    latlon = await client.get(
        "/ogc/collections/borders/items/VN-CN",
        params={"crs": "http://www.opengis.net/def/crs/EPSG/0/4326"},
        headers=bearer(tokens.analyst),
    )
    assert latlon.json()["geometry"]["coordinates"][200] == pytest.approx([lat, lon], abs=1e-7)
    # A bbox given in VN-2000 / UTM 48N selects the same markers as in CRS84.
    box = [106.69, 21.97, 106.71, 21.99]
    x1, y1 = to_tm3.transform(box[0], box[1])
    x2, y2 = to_tm3.transform(box[2], box[3])
    wgs = await client.get(
        "/ogc/collections/markers/items",
        params={"bbox": ",".join(map(str, box)), "limit": 100},
        headers=bearer(tokens.analyst),
    )
    utm = await client.get(
        "/ogc/collections/markers/items",
        params={
            "bbox": f"{x1},{y1},{x2},{y2}",
            "bbox-crs": "http://www.opengis.net/def/crs/EPSG/0/3405",
            "limit": 100,
        },
        headers=bearer(tokens.analyst),
    )
    assert (
        {f["id"] for f in utm.json()["features"]}
        == {f["id"] for f in wgs.json()["features"]}
        != set()
    )
    bad = await client.get(
        "/ogc/collections/markers/items",
        params={"crs": "EPSG:3857"},
        headers=bearer(tokens.analyst),
    )
    assert bad.status_code == 400
    collections = (
        await client.get("/ogc/collections/markers", headers=bearer(tokens.analyst))
    ).json()
    assert "http://www.opengis.net/def/crs/EPSG/0/9215" in collections["crs"] and collections[
        "storageCrs"
    ].endswith("CRS84")


async def test_sortby_and_properties(client, tokens: Tokens) -> None:
    r = await client.get(
        "/ogc/collections/incidents/items",
        params={"sortby": "-occurred_at", "properties": "title,occurred_at", "limit": 50},
        headers=bearer(tokens.analyst),
    )
    assert r.status_code == 200, r.text
    features = r.json()["features"]
    times = [f["properties"]["occurred_at"] for f in features]
    assert times == sorted(times, reverse=True) and len(times) > 5
    assert all(set(f["properties"]) == {"title", "occurred_at"} for f in features)
    ascending = await client.get(
        "/ogc/collections/markers/items",
        params={"sortby": "+number", "filter": "border = 'VN-CN' AND number < 3", "limit": 10},
        headers=bearer(tokens.analyst),
    )
    assert [f["properties"]["code"] for f in ascending.json()["features"]] == ["0", "1", "2"]
    bad = await client.get(
        "/ogc/collections/markers/items",
        params={"sortby": "notes; DROP TABLE markers"},
        headers=bearer(tokens.analyst),
    )
    assert bad.status_code == 400 and "sortable" in bad.json()["detail"]


async def test_html_and_content_negotiation(client, tokens: Tokens) -> None:
    auth = bearer(tokens.analyst)
    browser = {**auth, "Accept": "text/html,application/xhtml+xml,*/*;q=0.8"}
    for path in (
        "/ogc",
        "/ogc/conformance",
        "/ogc/collections",
        "/ogc/collections/incidents",
        "/ogc/collections/incidents/queryables",
        "/ogc/collections/incidents/items?limit=5",
    ):
        page = await client.get(path, headers=browser)
        assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
        assert "<!doctype html>" in page.text.lower()
        as_json = await client.get(path, headers={**browser}, params={"f": "json"})
        assert as_json.headers["content-type"].split(";")[0] in {
            "application/json",
            "application/geo+json",
            "application/schema+json",
        }
        rels = {(link["rel"], link["type"]) for link in as_json.json()["links"]}
        assert ("alternate", "text/html") in rels
        # A client that names no preference (curl, GDAL, OWSLib) gets JSON.
        plain = await client.get(path, headers=auth)
        assert not plain.headers["content-type"].startswith("text/html")
    items = (
        await client.get(
            "/ogc/collections/incidents/items", params={"f": "html", "limit": 3}, headers=auth
        )
    ).text
    first = (
        await client.get("/ogc/collections/incidents/items", params={"limit": 3}, headers=auth)
    ).json()["features"]
    for shown in first:  # Vietnamese titles appear, escaped by the template engine
        assert shown["properties"]["title"] in items
    assert 'rel="alternate"' in items and "next" in items
    one = await client.get(
        f"/ogc/collections/incidents/items/{first[0]['id']}", params={"f": "html"}, headers=auth
    )
    assert first[0]["properties"]["category"] in one.text
    bad = await client.get("/ogc", params={"f": "xml"}, headers=auth)
    assert bad.status_code == 400 and bad.headers["content-type"] == "application/problem+json"


async def test_html_escapes_what_it_shows(client, tokens: Tokens) -> None:
    """A title written by a user is data, never markup, in the HTML pages."""
    payload = "<script>alert(1)</script>"
    created = await client.post(
        "/api/v1/incidents",
        json=feature(
            incident_id=uuid.UUID("6f9d0a6e-3d5c-4b9a-9a57-0c1d2e3f4a5b"),
            category="other",
            title=payload,
            location="VN-CN:1089",
        ),
        headers=bearer(tokens.officer),
    )
    assert created.status_code == 201, created.text
    page = await client.get(
        "/ogc/collections/incidents/items/6f9d0a6e-3d5c-4b9a-9a57-0c1d2e3f4a5b",
        params={"f": "html"},
        headers=bearer(tokens.admin),
    )
    assert payload not in page.text and "&lt;script&gt;alert(1)&lt;/script&gt;" in page.text


async def test_openapi_30_definition(client, tokens: Tokens) -> None:
    r = await client.get("/ogc/api", headers=bearer(tokens.analyst))
    assert r.status_code == 200 and "version=3.0" in r.headers["content-type"]
    doc = r.json()
    assert doc["openapi"].startswith("3.0.")
    assert set(doc["paths"]) >= {
        "/ogc",
        "/ogc/conformance",
        "/ogc/collections",
        "/ogc/collections/{collection_id}/items",
        "/ogc/collections/{collection_id}/items/{feature_id}",
    }
    items = doc["paths"]["/ogc/collections/{collection_id}/items"]["get"]["parameters"]
    by_name = {p["name"]: p for p in items}
    # OGC API - Features' own shapes: bbox is 4 or 6 numbers, comma-separated.
    assert by_name["bbox"]["schema"]["type"] == "array"
    assert by_name["bbox"]["schema"]["items"] == {"type": "number"}
    assert (by_name["bbox"]["style"], by_name["bbox"]["explode"]) == ("form", False)
    assert set(by_name["collection_id"]["schema"]["enum"]) == set(LAYERS)
    text = r.text
    # Nothing 3.1-only is left: no null types, no const, no examples arrays.
    assert '"type":"null"' not in text.replace(" ", "") and '"const"' not in text
    landing = (await client.get("/ogc", headers=bearer(tokens.analyst))).json()
    desc = next(link for link in landing["links"] if link["rel"] == "service-desc")
    assert desc["href"].endswith("/ogc/api")
    conformance = (await client.get("/ogc/conformance", headers=bearer(tokens.analyst))).json()
    for cls in ("conf/html", "conf/oas30", "conf/temporal-operators"):
        assert any(uri.endswith(cls) for uri in conformance["conformsTo"])


async def test_property_equality_filters(client, tokens: Tokens) -> None:
    auth = bearer(tokens.analyst)
    every = (
        await client.get("/ogc/collections/incidents/items", params={"limit": 1000}, headers=auth)
    ).json()["features"]
    category = every[0]["properties"]["category"]
    status = every[0]["properties"]["status"]
    expected = {
        f["id"]
        for f in every
        if f["properties"]["category"] == category and f["properties"]["status"] == status
    }
    got = (
        await client.get(
            "/ogc/collections/incidents/items",
            params={"category": category, "status": status, "limit": 1000},
            headers=auth,
        )
    ).json()["features"]
    assert {f["id"] for f in got} == expected
    for flag in ("true", "false"):
        flagged = (
            await client.get(
                "/ogc/collections/incidents/items",
                params={"crosses_line": flag, "limit": 1000},
                headers=auth,
            )
        ).json()["features"]
        assert {f["id"] for f in flagged} == {
            f["id"] for f in every if f["properties"]["crosses_line"] is (flag == "true")
        }
    for bad, status_code in (
        ({"crosses_line": "maybe"}, 400),
        ({"distance_to_line_m": "far"}, 400),
        ({"colour": "red"}, 400),
    ):
        r = await client.get("/ogc/collections/incidents/items", params=bad, headers=auth)
        assert r.status_code == status_code, (bad, r.text)


async def test_cql2_temporal_and_dwithin(client, tokens: Tokens) -> None:
    every = await _filtered(client, tokens, "incidents", "TRUE")
    times = sorted(f["properties"]["occurred_at"] for f in every)
    middle = times[len(times) // 2]
    from datetime import datetime

    def at(value: str) -> datetime:
        return datetime.fromisoformat(value)

    def ids(features: list[dict]) -> set[str]:
        return {f["id"] for f in features}

    after = await _filtered(
        client, tokens, "incidents", f"T_AFTER(occurred_at, TIMESTAMP('{middle}'))"
    )
    assert ids(after) == {f["id"] for f in every if at(f["properties"]["occurred_at"]) > at(middle)}
    before = await _filtered(
        client, tokens, "incidents", f"T_BEFORE(occurred_at, TIMESTAMP('{middle}'))"
    )
    assert ids(before) == {
        f["id"] for f in every if at(f["properties"]["occurred_at"]) < at(middle)
    }
    start, end = "2023-01-01T00:00:00Z", "2024-01-01T00:00:00Z"
    during = await _filtered(
        client, tokens, "incidents", f"T_DURING(occurred_at, INTERVAL('{start}', '{end}'))"
    )
    assert ids(during) == {
        f["id"] for f in every if at(start) < at(f["properties"]["occurred_at"]) < at(end)
    }
    open_ended = await _filtered(
        client, tokens, "incidents", f"T_INTERSECTS(occurred_at, INTERVAL('{start}', '..'))"
    )
    assert ids(open_ended) == {
        f["id"] for f in every if at(f["properties"]["occurred_at"]) >= at(start)
    }
    disjoint = await _filtered(
        client, tokens, "incidents", f"T_DISJOINT(occurred_at, INTERVAL('{start}', '{end}'))"
    )
    assert ids(disjoint) == ids(every) - {
        f["id"] for f in every if at(start) <= at(f["properties"]["occurred_at"]) <= at(end)
    }
    as_json = await _filtered(
        client,
        tokens,
        "incidents",
        json.dumps({"op": "t_after", "args": [{"property": "occurred_at"}, {"timestamp": middle}]}),
        "cql2-json",
    )
    assert ids(as_json) == ids(after)

    # S_DWITHIN in metres on the ground, checked against pyproj's geodesic distances of
    # the point incidents from marker 1089: the same set within 20 km, and a point just
    # inside or just outside a radius drawn at its own distance.
    from pyproj import Geod

    lon, lat = await _marker_1089(client, tokens)
    points = (
        await client.get(
            "/ogc/collections/incidents-points/items", params={"limit": 10000},
            headers=bearer(tokens.analyst),
        )
    ).json()["features"]  # fmt: skip
    distance = {
        f["id"]: Geod(ellps="WGS84").inv(lon, lat, *f["geometry"]["coordinates"])[2] for f in points
    }
    within = await _filtered(
        client, tokens, "incidents-points",
        f"S_DWITHIN(geometry, POINT({lon} {lat}), 20000, meters)",
    )  # fmt: skip
    assert ids(within) == {i for i, d in distance.items() if d <= 20000} != set()
    probe, metres = sorted(distance.items(), key=lambda item: item[1])[len(distance) // 3]
    for radius, expected in ((metres + 0.5, True), (metres - 0.5, False)):
        found = await _filtered(
            client, tokens, "incidents-points",
            f"S_DWITHIN(geometry, POINT({lon} {lat}), {radius}, meters)",
        )  # fmt: skip
        assert (probe in ids(found)) is expected, (probe, metres, radius)
    near = await _filtered(
        client, tokens, "incidents", f"S_DWITHIN(geometry, POINT({lon} {lat}), 2000, meters)"
    )
    km = await _filtered(
        client, tokens, "incidents", f"S_DWITHIN(geometry, POINT({lon} {lat}), 2, kilometers)"
    )
    assert near and ids(near) == ids(km)
    far = await _filtered(
        client, tokens, "incidents", f"S_DWITHIN(geometry, POINT({lon} {lat}), 20000, meters)"
    )
    assert ids(near) < ids(far) or ids(near) == ids(far)
    bad = await client.get(
        "/ogc/collections/incidents/items",
        params={"filter": f"S_DWITHIN(geometry, POINT({lon} {lat}), 2, parsecs)"},
        headers=bearer(tokens.analyst),
    )
    assert bad.status_code == 400


async def test_owslib_reads_collections_and_items(live_server: str, tokens: Tokens) -> None:
    from owslib.ogcapi.features import Features

    def read() -> tuple[list[str], dict, dict]:
        api = Features(live_server, headers=bearer(tokens.analyst))
        ids = [c["id"] for c in api.collections()["collections"]]
        page = api.collection_items("markers", limit=50)
        crossing = api.collection_items("incidents", limit=500, side="VN")
        return ids, page, crossing

    ids, page, crossing = await asyncio.to_thread(read)
    assert ids == list(LAYERS)
    assert page["numberReturned"] == 50 and len(page["features"]) == 50
    assert crossing["features"] and all(
        f["properties"]["side"] == "VN" for f in crossing["features"]
    )


async def test_an_html_page_holds_at_most_500_features(client, tokens: Tokens) -> None:
    """Rendered in the event loop: limit=10000 as HTML is a page of 500 with a next link
    that goes on from there (JSON pages keep the limit asked)."""
    import re

    r = await client.get(
        "/ogc/collections/markers/items",
        params={"limit": "10000", "f": "html"},
        headers=bearer(tokens.analyst),
    )
    assert r.status_code == 200
    assert re.search(r"\b500 features\b", r.text), r.text[:500]
    assert "offset=500" in r.text and "limit=500" in r.text
    as_json = await client.get(
        "/ogc/collections/markers/items", params={"limit": "10000"}, headers=bearer(tokens.analyst)
    )
    assert as_json.json()["numberReturned"] > 500


@pytest.mark.parametrize("epsg", [3405, 9210])
async def test_a_saved_page_in_a_projected_crs_says_its_crs_to_gdal(
    client, tokens: Tokens, tmp_path, epsg: int
) -> None:
    """Saved and read back by GDAL (as QGIS and geopandas read it), a page fetched with
    crs=EPSG:N is in EPSG:N, not metres labelled as degrees."""
    import pyogrio

    r = await client.get(
        "/ogc/collections/markers/items",
        params={"crs": f"http://www.opengis.net/def/crs/EPSG/0/{epsg}", "limit": 5},
        headers=bearer(tokens.analyst),
    )
    assert r.headers["content-crs"] == f"<http://www.opengis.net/def/crs/EPSG/0/{epsg}>"
    saved = tmp_path / "page.geojson"
    saved.write_bytes(r.content)
    info = pyogrio.read_info(saved)
    assert info["crs"] == f"EPSG:{epsg}"
    assert info["features"] == 5
    # No CRS member in CRS84 (RFC 7946's default), and none inside geometries.
    plain = await client.get(
        "/ogc/collections/markers/items", params={"limit": 1}, headers=bearer(tokens.analyst)
    )
    assert "crs" not in plain.json()
    assert "crs" not in r.json()["features"][0]["geometry"]
    one = await client.get(
        "/ogc/collections/markers/items/1",
        params={"crs": f"http://www.opengis.net/def/crs/EPSG/0/{epsg}"},
        headers=bearer(tokens.analyst),
    )
    assert one.json()["crs"]["properties"]["name"] == f"urn:ogc:def:crs:EPSG::{epsg}"


async def test_first_page_of_a_whole_collection_says_how_many(client, tokens: Tokens) -> None:
    """numberMatched on the first page of the whole collection (QGIS's feature count),
    not on a bbox or filter page until asked, and always on the last page."""
    for name in ("markers", "incidents", "incidents-lines"):
        counted = await client.get(
            f"/ogc/collections/{name}/items",
            params={"limit": 1, "count": "true"},
            headers=bearer(tokens.reporter),
        )
        first = await client.get(
            f"/ogc/collections/{name}/items", params={"limit": 1}, headers=bearer(tokens.reporter)
        )
        assert first.json()["numberMatched"] == counted.json()["numberMatched"] > 1, name
        second = await client.get(
            f"/ogc/collections/{name}/items",
            params={"limit": 1, "offset": 1},
            headers=bearer(tokens.reporter),
        )
        assert "numberMatched" not in second.json() or second.json()["numberReturned"] == 0
    boxed = await client.get(
        "/ogc/collections/markers/items",
        params={"limit": 1, "bbox": "100,8,110,24"},
        headers=bearer(tokens.analyst),
    )
    assert "numberMatched" not in boxed.json()

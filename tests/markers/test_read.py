from __future__ import annotations

import pytest
from pyproj import Geod

from app.geo.marker_codes import parse_marker_code
from tests.conftest import Tokens, bearer

GEOD = Geod(ellps="WGS84")


async def test_one_marker_by_code_as_written(client, tokens: Tokens) -> None:
    r = await client.get("/api/v1/borders/VN-CN/markers/1088/2", headers=bearer(tokens.analyst))
    assert r.status_code == 200
    assert r.headers["content-type"] == "application/geo+json"
    feature = r.json()
    assert feature["type"] == "Feature"
    assert feature["geometry"]["type"] == "Point"
    lon, lat = feature["geometry"]["coordinates"]
    assert 106.5 < lon < 106.9 and 21.8 < lat < 22.2  # Hữu Nghị gate, Lạng Sơn
    props = feature["properties"]
    assert props | {"code": "1088/2", "kind": "auxiliary", "province": "lang-son"} == props
    assert r.headers["etag"] == f'"{props["version"]}"'


@pytest.mark.parametrize(
    ("path", "code"),
    [
        ("836(2)", "836(2)"),
        ("944/1(2)", "944/1(2)"),
        ("M834/1", "834/1"),
        ("0", "0"),
        ("1378", "1378"),
    ],
)
async def test_codes_in_paths(client, tokens: Tokens, path: str, code: str) -> None:
    r = await client.get(f"/api/v1/borders/vn-cn/markers/{path}", headers=bearer(tokens.analyst))
    assert r.status_code == 200, r.text
    assert r.json()["properties"]["code"] == code


async def test_unknown_marker_and_border_are_404_problems(client, tokens: Tokens) -> None:
    for path in ["/api/v1/borders/VN-CN/markers/1379", "/api/v1/borders/VN-XX/markers/1"]:
        r = await client.get(path, headers=bearer(tokens.analyst))
        assert r.status_code == 404
        assert r.headers["content-type"] == "application/problem+json"
        assert r.json()["status"] == 404


async def test_invalid_code_is_422_saying_what_is_valid(client, tokens: Tokens) -> None:
    r = await client.get("/api/v1/borders/VN-CN/markers/10x88", headers=bearer(tokens.analyst))
    assert r.status_code == 422
    body = r.json()
    assert body["errors"][0]["field"] == "code"
    assert "944/1(2)" in body["detail"]


async def test_code_range_is_in_code_order(client, tokens: Tokens) -> None:
    r = await client.get(
        "/api/v1/markers",
        params={"border": "VN-CN", "from": "1088", "to": "1089"},
        headers=bearer(tokens.analyst),
    )
    assert r.status_code == 200
    codes = [f["properties"]["code"] for f in r.json()["features"]]
    assert codes == ["1088", "1088/1", "1088/2", "1089"]
    assert r.json()["numberReturned"] == 4


async def test_to_covers_both_banks(client, tokens: Tokens) -> None:
    r = await client.get(
        "/api/v1/markers",
        params={"border": "VN-CN", "from": "835", "to": "836"},
        headers=bearer(tokens.analyst),
    )
    assert [f["properties"]["code"] for f in r.json()["features"]] == ["835", "836(1)", "836(2)"]


async def test_paging_visits_every_marker_once_in_order(client, tokens: Tokens) -> None:
    url: str | None = "/api/v1/markers?border=VN-CN&from=1000&to=1100&limit=17"
    seen: list[str] = []
    pages = 0
    while url:
        r = await client.get(url, headers=bearer(tokens.analyst))
        assert r.status_code == 200
        body = r.json()
        seen += [f["properties"]["code"] for f in body["features"]]
        assert body["numberReturned"] == len(body["features"]) <= 17
        url = next((link["href"] for link in body["links"] if link["rel"] == "next"), None)
        pages += 1
    assert len(seen) == len(set(seen))
    assert seen == sorted(seen, key=parse_marker_code)
    assert seen[0] == "1000" and seen[-1] == "1100"
    assert len(seen) == 101 + 3  # 1053/1, 1088/1, 1088/2
    assert pages == -(-len(seen) // 17)


async def test_filters_combine(client, db, tokens: Tokens) -> None:
    from sqlalchemy import text

    await db.execute(
        text("UPDATE markers SET condition = 'damaged' WHERE code IN ('615', '821', '1089')")
    )
    r = await client.get(
        "/api/v1/markers",
        params={"condition": "damaged", "bbox": "106.0,21.5,107.5,23.5"},
        headers=bearer(tokens.analyst),
    )
    codes = {f["properties"]["code"] for f in r.json()["features"]}
    assert codes == {"1089"} | ({"615", "821"} & codes)  # bbox keeps what lies inside it
    assert "1089" in codes
    for f in r.json()["features"]:
        lon, lat = f["geometry"]["coordinates"]
        assert 106.0 <= lon <= 107.5 and 21.5 <= lat <= 23.5
        assert f["properties"]["condition"] == "damaged"


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"bbox": "1,2,3"}, "bbox"),
        ({"bbox": "107,22,106,23"}, "bbox"),
        ({"from": "1000"}, "border"),
        ({"border": "VN-CN", "from": "abc"}, "from"),
        ({"condition": "broken"}, "condition.0"),
        ({"limit": "0"}, "limit"),
        ({"limit": "100001"}, "limit"),
        ({"cursor": "not-a-cursor"}, "cursor"),
    ],
)
async def test_bad_list_parameters(
    client, tokens: Tokens, params: dict[str, str], field: str
) -> None:
    r = await client.get("/api/v1/markers", params=params, headers=bearer(tokens.analyst))
    assert r.status_code == 422, r.text
    assert r.headers["content-type"] == "application/problem+json"
    assert field in [e["field"] for e in r.json()["errors"]]


async def test_nearest_markers_are_sorted_by_geodesic_distance(client, tokens: Tokens) -> None:
    lon, lat = 106.69, 21.99
    r = await client.get(
        "/api/v1/markers/nearest",
        params={"lon": lon, "lat": lat, "k": 5},
        headers=bearer(tokens.analyst),
    )
    assert r.status_code == 200
    features = r.json()["features"]
    assert len(features) == 5
    distances = [f["properties"]["distance_m"] for f in features]
    assert distances == sorted(distances)
    for f in features:
        flon, flat = f["geometry"]["coordinates"]
        _, _, metres = GEOD.inv(lon, lat, flon, flat)
        assert f["properties"]["distance_m"] == pytest.approx(metres, abs=0.5)


async def test_nearest_accepts_vn2000_input(client, tokens: Tokens) -> None:
    from tests.incidents.helpers import projected

    x, y = projected(106.69, 21.99, 9215)
    wgs = await client.get(
        "/api/v1/markers/nearest",
        params={"lon": 106.69, "lat": 21.99, "k": 1},
        headers=bearer(tokens.analyst),
    )
    vn = await client.get(
        "/api/v1/markers/nearest",
        params={"lon": x, "lat": y, "k": 1, "crs": "EPSG:9215"},
        headers=bearer(tokens.analyst),
    )
    assert vn.status_code == 200
    assert vn.json()["features"][0]["id"] == wgs.json()["features"][0]["id"]
    far = await client.get(
        "/api/v1/markers/nearest",
        params={"lon": 106.69, "lat": 21.99, "crs": "EPSG:3406"},
        headers=bearer(tokens.analyst),
    )
    assert far.status_code == 422


async def test_segments_join_consecutive_positions(client, tokens: Tokens) -> None:
    r = await client.get(
        "/api/v1/segments",
        params={"border": "VN-CN", "from": "1088", "to": "1090"},
        headers=bearer(tokens.analyst),
    )
    assert r.status_code == 200
    refs = [f["properties"]["ref"] for f in r.json()["features"]]
    assert refs == ["1088-1088/1", "1088/1-1088/2", "1088/2-1089", "1089-1090"]
    for f in r.json()["features"]:
        coords = f["geometry"]["coordinates"]
        lons, lats = zip(*coords, strict=True)
        assert f["properties"]["length_m"] == pytest.approx(
            GEOD.line_length(lons, lats), rel=1e-5, abs=0.1
        )
        assert f["properties"]["kind"] == "land"
        assert f["properties"]["sightline_width_m"] == 10


async def test_river_segments_at_double_markers(client, tokens: Tokens) -> None:
    r = await client.get(
        "/api/v1/segments",
        params={"border": "VN-CN", "from": "835", "to": "837"},
        headers=bearer(tokens.analyst),
    )
    kinds = {f["properties"]["ref"]: f["properties"]["kind"] for f in r.json()["features"]}
    assert kinds == {"835-836(1)": "river", "836(1)-837": "river"}

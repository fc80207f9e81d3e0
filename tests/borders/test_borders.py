from __future__ import annotations

import pytest
from pyproj import Geod

from tests.conftest import Tokens, bearer


async def test_borders_with_sides_zones_and_geodesic_length(client, tokens: Tokens) -> None:
    r = await client.get("/api/v1/borders", headers=bearer(tokens.analyst))
    assert r.status_code == 200
    body = r.json()
    by_code = {f["id"]: f for f in body["features"]}
    assert set(by_code) == {"VN-CN", "VN-LA", "VN-KH"}
    assert body["numberReturned"] == 3
    cn = by_code["VN-CN"]
    assert (cn["properties"]["left_country"], cn["properties"]["right_country"]) == ("CN", "VN")
    lons, lats = zip(*cn["geometry"]["coordinates"], strict=True)
    assert cn["properties"]["length_m"] == pytest.approx(
        Geod(ellps="WGS84").line_length(lons, lats), rel=1e-6
    )
    zones = {z["code"]: z["distance_m"] for z in cn["properties"]["zones"]}
    assert zones == {
        "sightline_corridor": 10,
        "no_new_structures_30m": 30,
        "no_mining_500m": 500,
        "no_burning_1000m": 1000,
        "flight_notice_25km": 25000,
    }


async def test_border_without_geometry(client, tokens: Tokens) -> None:
    r = await client.get(
        "/api/v1/borders/vn-cn", params={"geometry": "false"}, headers=bearer(tokens.analyst)
    )
    assert r.status_code == 200
    assert r.json()["geometry"] is None
    assert r.json()["properties"]["marker_count"] > 1300


async def test_admin_sets_a_zone_distance(client, tokens: Tokens) -> None:
    r = await client.put(
        "/api/v1/borders/VN-CN/zones/sightline_corridor",
        json={"distance_m": 12.5},
        headers=bearer(tokens.admin),
    )
    assert r.status_code == 200
    zones = {z["code"]: z["distance_m"] for z in r.json()["properties"]["zones"]}
    assert zones["sightline_corridor"] == 12.5
    seg = await client.get(
        "/api/v1/segments", params={"border": "VN-CN", "limit": 1}, headers=bearer(tokens.admin)
    )
    assert seg.json()["features"][0]["properties"]["sightline_width_m"] == 12.5


@pytest.mark.parametrize(
    ("zone", "body", "status"),
    [
        ("nope", {"distance_m": 5}, 404),
        ("sightline_corridor", {"distance_m": -1}, 422),
        ("sightline_corridor", {}, 422),
    ],
)
async def test_bad_zone_updates(
    client, tokens: Tokens, zone: str, body: dict[str, object], status: int
) -> None:
    r = await client.put(
        f"/api/v1/borders/VN-CN/zones/{zone}", json=body, headers=bearer(tokens.admin)
    )
    assert r.status_code == status

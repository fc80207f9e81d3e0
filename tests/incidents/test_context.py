"""Every context field on known geometries built from the real line."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import text

from tests.conftest import Tokens, bearer
from tests.incidents.helpers import GEOD, direction, feature, line_point, off_line, point


async def _submit(client, tokens: Tokens, body) -> dict:  # type: ignore[no-untyped-def]
    r = await client.post("/api/v1/incidents", json=body, headers=bearer(tokens.admin))
    assert r.status_code == 201, r.text
    return r.json()["properties"]


async def test_fence_crossing_the_line(client, tokens: Tokens) -> None:
    # 40 m on Vietnam's side to 60 m on China's, straight across the line at 1089+100.
    lon, lat = await line_point(client, tokens.admin, "1089+100")
    azimuth = await direction(client, tokens.admin, "1089+100")
    a = GEOD.fwd(lon, lat, azimuth + 90, 40)[:2]
    b = GEOD.fwd(lon, lat, azimuth - 90, 60)[:2]
    props = await _submit(
        client, tokens, feature(geometry={"type": "LineString", "coordinates": [list(a), list(b)]})
    )
    assert props["crosses_line"] is True and props["side"] == "crossing"
    assert props["distance_to_line_m"] == pytest.approx(0, abs=0.5)
    measures = props["zone_measures"]
    assert measures["unit"] == "m"
    assert measures["total"] == pytest.approx(100, abs=1)
    assert measures["far_side"] == pytest.approx(60, abs=1)
    zones = measures["zones"]
    assert zones["sightline_corridor"]["measure"] == pytest.approx(20, abs=1)  # 10 m each side
    assert zones["no_new_structures_30m"]["measure"] == pytest.approx(60, abs=1)  # 30 + 30
    assert zones["no_mining_500m"]["measure"] == pytest.approx(100, abs=1)
    assert props["chainage_ref"] == "1089+100"
    assert {b["article"] for b in props["breaches"]} == {"Art. 7(3)", "Art. 21"}
    assert props["province"] == "lang-son" and props["district"] == "van-lang"


@pytest.mark.parametrize(("side", "country"), [("VN", "VN"), ("CN", "CN")])
async def test_point_20_m_off_the_line(client, tokens: Tokens, side: str, country: str) -> None:
    lon, lat = await off_line(client, tokens.admin, "1089+300", 20, side)
    props = await _submit(
        client, tokens, feature(geometry=point(lon, lat), category="construction")
    )
    assert props["side"] == country
    assert props["crosses_line"] is False
    assert props["distance_to_line_m"] == pytest.approx(20, abs=0.5)
    # 20 m: inside the 30 m zone, outside the 10 m sightline corridor.
    assert props["zones"] == [
        "no_new_structures_30m",
        "no_mining_500m",
        "no_burning_1000m",
        "flight_notice_25km",
    ]
    assert [b["article"] for b in props["breaches"]] == ["Art. 21"]
    assert props["chainage_ref"] in {"1089+299", "1089+300", "1089+301"}
    assert props["zone_measures"]["unit"] is None
    # In Văn Lãng, or (on the far side, in no Vietnamese unit) the one facing it.
    assert (props["province"], props["district"]) == ("lang-son", "van-lang")


async def test_exemption_tags(client, tokens: Tokens) -> None:
    lon, lat = await off_line(client, tokens.admin, "1089+300", 20, "VN")
    props = await _submit(
        client,
        tokens,
        feature(geometry=point(lon, lat), category="construction", tags=["border_gate_facility"]),
    )
    assert props["breaches"] == []


@pytest.mark.parametrize(
    ("category", "metres", "articles"),
    [
        ("fire", 800, ["Art. 15(5)"]),
        ("fire", 1200, []),
        ("mining", 400, ["Art. 15(6)"]),
        ("aerial_flight", 10_000, ["Art. 20"]),
        ("aerial_flight", 28_000, []),
        ("smuggling", 5, []),
    ],
)
async def test_articles_by_category_and_distance(
    client, tokens: Tokens, category: str, metres: float, articles: list[str]
) -> None:
    # At 1174 the line runs straight enough that 28 km square to it is 28 km from all of it.
    ref = "1174" if metres > 25_000 else "1089+300"
    lon, lat = await off_line(client, tokens.admin, ref, metres, "VN")
    props = await _submit(client, tokens, feature(geometry=point(lon, lat), category=category))
    # The line bends, so another stretch may be nearer than the one we measured square from.
    assert props["distance_to_line_m"] <= metres * 1.01 + 0.5
    if metres > 25_000:
        assert props["distance_to_line_m"] > 25_000
    assert [b["article"] for b in props["breaches"]] == articles


async def test_polygon_straddling_two_districts(client, db, tokens: Tokens) -> None:
    # Văn Lãng and Cao Lộc are Voronoi cells of their seats: the midpoint of the two seats
    # lies on the perpendicular bisector, their shared edge (about 1.5 km from the line).
    seats = dict(
        (
            await db.execute(
                text(
                    "SELECT code, ST_Centroid(geom) FROM admin_units WHERE code IN ('van-lang', 'cao-loc')"
                )
            )
        ).all()
    )
    assert set(seats) == {"van-lang", "cao-loc"}
    x, y = (106.615 + 106.770) / 2, (22.060 + 21.870) / 2  # seed/data/district-seats.csv
    d = 0.004  # a square about 800 m across
    square = {
        "type": "Polygon",
        "coordinates": [
            [
                [x - d, y - d],
                [x + d * 0.5, y - d],
                [x + d * 0.5, y + d],
                [x - d, y + d],
                [x - d, y - d],
            ]
        ],
    }
    props = await _submit(client, tokens, feature(geometry=square, category="construction"))
    assert sorted(props["districts"]) == ["cao-loc", "van-lang"]
    assert props["district"] in props["districts"]
    assert props["zone_measures"]["unit"] == "m2"
    assert props["zone_measures"]["total"] > 0
    # The primary district holds the larger share of the area.
    shares = dict(
        (
            await db.execute(
                text(
                    "SELECT u.code, ST_Area(ST_Intersection(u.geom, ST_GeomFromGeoJSON(:g))::geography) "
                    "FROM admin_units u WHERE u.code IN ('cao-loc', 'van-lang')"
                ),
                {"g": __import__("json").dumps(square)},
            )
        ).all()
    )
    assert props["district"] == max(shares, key=shares.get)


async def test_units_follow_the_date_of_the_event(client, tokens: Tokens) -> None:
    lon, lat = await off_line(client, tokens.admin, "1089+300", 50, "VN")
    before = await _submit(
        client, tokens, feature(geometry=point(lon, lat), occurred_at="2025-06-30T23:00:00+07:00")
    )
    after = await _submit(
        client, tokens, feature(geometry=point(lon, lat), occurred_at="2025-07-01T00:30:00+07:00")
    )
    assert (before["province"], before["district"]) == ("lang-son", "van-lang")
    # 1 Jul 2025 local time: the district level is gone; the province remains.
    assert (after["province"], after["district"], after["districts"]) == ("lang-son", None, [])


async def test_zone_change_recomputes_context(client, tokens: Tokens) -> None:
    lon, lat = await off_line(client, tokens.admin, "1089+300", 20, "VN")
    created = await client.post(
        "/api/v1/incidents", json=feature(geometry=point(lon, lat)), headers=bearer(tokens.admin)
    )
    incident_id = created.json()["id"]
    assert "sightline_corridor" not in created.json()["properties"]["zones"]
    r = await client.put(
        "/api/v1/borders/VN-CN/zones/sightline_corridor",
        json={"distance_m": 25},
        headers=bearer(tokens.admin),
    )
    assert r.status_code == 200
    after = await client.get(f"/api/v1/incidents/{incident_id}", headers=bearer(tokens.admin))
    props = after.json()["properties"]
    assert "sightline_corridor" in props["zones"]
    assert "Art. 7(3)" in [b["article"] for b in props["breaches"]]


async def test_segment_override_of_the_corridor(client, tokens: Tokens) -> None:
    lon, lat = await off_line(client, tokens.admin, "1089+300", 20, "VN")
    segments = await client.get(
        "/api/v1/segments",
        params={"border": "VN-CN", "from": "1089", "to": "1090"},
        headers=bearer(tokens.admin),
    )
    segment_id = segments.json()["features"][0]["id"]
    await client.patch(
        f"/api/v1/segments/{segment_id}",
        json={"sightline_width_m": 30},
        headers=bearer(tokens.admin),
    )
    props = await _submit(client, tokens, feature(geometry=point(lon, lat)))
    assert "sightline_corridor" in props["zones"]
    assert props["zone_measures"]["zones"]["sightline_corridor"]["width_m"] == 30


async def test_at_a_marker_the_corridor_is_the_segment_ending_there(client, tokens: Tokens) -> None:
    """Where two segments meet (at marker 1089), the one ending there gives the width."""
    segments = await client.get(
        "/api/v1/segments",
        params={"border": "VN-CN", "from": "1089", "to": "1090"},
        headers=bearer(tokens.admin),
    )
    await client.patch(
        f"/api/v1/segments/{segments.json()['features'][0]['id']}",
        json={"sightline_width_m": 30},
        headers=bearer(tokens.admin),
    )
    lon, lat = await line_point(client, tokens.admin, "1089")
    at_marker = await _submit(client, tokens, feature(geometry=point(lon, lat)))
    assert at_marker["chainage_ref"] == "1089"
    assert at_marker["zone_measures"]["zones"]["sightline_corridor"]["width_m"] == 10
    lon, lat = await line_point(client, tokens.admin, "1089+5")
    after = await _submit(client, tokens, feature(geometry=point(lon, lat)))
    assert after["zone_measures"]["zones"]["sightline_corridor"]["width_m"] == 30


async def test_fence_along_the_line_is_on_it_not_across(client, tokens: Tokens) -> None:
    props = await _submit(client, tokens, feature(location="VN-CN:1089+100-1089+400"))
    assert props["side"] == "on_line" and props["crosses_line"] is False
    assert props["zone_measures"]["far_side"] == 0
    assert props["zone_measures"]["total"] == pytest.approx(300, abs=1)


async def test_polygon_on_the_far_side(client, tokens: Tokens) -> None:
    centre = await off_line(client, tokens.admin, "1089+300", 200, "CN")
    d = 0.0005
    x, y = centre
    square = {
        "type": "Polygon",
        "coordinates": [
            [[x - d, y - d], [x + d, y - d], [x + d, y + d], [x - d, y + d], [x - d, y - d]]
        ],
    }
    props = await _submit(client, tokens, feature(geometry=square, category="construction"))
    assert props["side"] == "CN" and props["crosses_line"] is False
    assert props["zone_measures"]["far_side"] == pytest.approx(
        props["zone_measures"]["total"], rel=1e-6
    )


async def test_point_on_the_edge_of_two_districts_takes_the_first_code(
    client, db, tokens: Tokens
) -> None:
    # Where Văn Lãng and Cao Lộc meet lies in both; a point has no share of either, so the
    # first code is its district.
    corner = (
        await db.execute(
            text(
                "SELECT ST_X(p), ST_Y(p) FROM (SELECT ST_GeometryN(ST_Points("
                "ST_Intersection(a.geom, b.geom)), 1) AS p FROM admin_units a, admin_units b "
                "WHERE a.code = 'van-lang' AND b.code = 'cao-loc') s"
            )
        )
    ).one()  # fmt: skip
    holding = (
        await db.execute(
            text(
                "SELECT code FROM admin_units WHERE level = 'district' AND valid_from <= :day "
                "AND (valid_to IS NULL OR valid_to > :day) "
                "AND ST_Intersects(geom, ST_SetSRID(ST_MakePoint(:x, :y), 4326)) ORDER BY code"
            ),
            {"x": corner[0], "y": corner[1], "day": date(2024, 5, 10)},
        )
    ).scalars().all()  # fmt: skip
    assert {"cao-loc", "van-lang"} <= set(holding)
    props = await _submit(
        client, tokens, feature(geometry=point(*corner), occurred_at="2024-05-10T09:30:00+07:00")
    )
    assert props["district"] == holding[0]
    assert sorted(props["districts"]) == holding

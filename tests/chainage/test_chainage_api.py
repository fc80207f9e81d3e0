"""Chainage against the real line: resolve/locate round trips, range lengths checked with
an independent geodesic computation (pyproj over the returned vertices), sides, errors."""

from __future__ import annotations

import random

import pytest
from pyproj import Geod

from tests.conftest import Tokens, bearer

GEOD = Geod(ellps="WGS84")


async def _get(client, tokens: Tokens, path: str, **params: object):  # type: ignore[no-untyped-def]
    return await client.get(path, params=params, headers=bearer(tokens.analyst))


@pytest.mark.parametrize(
    "ref", ["1248+470", "1089", "1088/2+10", "104(2)+500", "0+1", "556/1+40", "1377+300"]
)
async def test_resolve_then_locate_returns_the_same_place(client, tokens: Tokens, ref: str) -> None:
    r = await _get(client, tokens, "/api/v1/chainage", border="VN-CN", ref=ref)
    assert r.status_code == 200, r.text
    point = r.json()
    assert point["geometry"]["type"] == "Point"
    lon, lat = point["geometry"]["coordinates"]
    back = await _get(client, tokens, "/api/v1/chainage/locate", border="VN-CN", lon=lon, lat=lat)
    assert back.status_code == 200, back.text
    props = back.json()["properties"]
    assert props["distance_to_line_m"] < 1
    assert props["side"] == "on_line"
    assert props["chainage_m"] == pytest.approx(point["properties"]["chainage_m"], abs=1.0)
    # Locating names the last marker at or before the point: the same reference when no
    # marker lies between, else a later marker with a smaller offset (same place).
    resolved = await _get(client, tokens, "/api/v1/chainage", border="VN-CN", ref=props["ref"])
    assert resolved.json()["properties"]["chainage_m"] == pytest.approx(
        point["properties"]["chainage_m"], abs=1.0
    )


async def test_random_round_trips(client, tokens: Tokens) -> None:
    rng = random.Random(11)
    for _ in range(25):
        number = rng.randrange(0, 1378)
        offset = rng.randrange(0, 600)
        ref = (
            f"{number}+{offset}"
            if number not in range(98, 105) and number != 836
            else f"{number}(2)+{offset}"
        )
        r = await _get(client, tokens, "/api/v1/chainage", border="VN-CN", ref=ref)
        assert r.status_code == 200, (ref, r.text)
        lon, lat = r.json()["geometry"]["coordinates"]
        back = (
            await _get(client, tokens, "/api/v1/chainage/locate", border="VN-CN", lon=lon, lat=lat)
        ).json()
        assert back["properties"]["chainage_m"] == pytest.approx(
            r.json()["properties"]["chainage_m"], abs=1.0
        )


@pytest.mark.parametrize(
    "stretch",
    ["1042-1053/1", "1248+470-1253", "556/1-556/2", "104(2)+500 to 104(2)+3,800m", "1173-1183"],
)
async def test_range_length_matches_an_independent_geodesic_length(
    client, tokens: Tokens, stretch: str
) -> None:
    r = await _get(client, tokens, "/api/v1/chainage", border="VN-CN", ref=stretch)
    assert r.status_code == 200, r.text
    feature = r.json()
    assert feature["geometry"]["type"] == "LineString"
    lons, lats = zip(*feature["geometry"]["coordinates"], strict=True)
    independent = GEOD.line_length(lons, lats)
    props = feature["properties"]
    assert props["length_m"] == pytest.approx(independent, rel=1e-5, abs=0.1)
    assert props["length_m"] == pytest.approx(
        props["to"]["chainage_m"] - props["from"]["chainage_m"], rel=0.005
    )


async def test_chainage_offset_is_ground_metres(client, tokens: Tokens) -> None:
    base = (await _get(client, tokens, "/api/v1/chainage", border="VN-CN", ref="1248")).json()
    far = (await _get(client, tokens, "/api/v1/chainage", border="VN-CN", ref="1248+470")).json()
    stretch = (
        await _get(client, tokens, "/api/v1/chainage", border="VN-CN", ref="1248-1248+470")
    ).json()
    assert far["properties"]["chainage_m"] - base["properties"]["chainage_m"] == pytest.approx(
        470, abs=0.01
    )
    assert stretch["properties"]["length_m"] == pytest.approx(470, rel=0.005)


@pytest.mark.parametrize(("side_angle", "country"), [(-90, "CN"), (90, "VN")])
async def test_side_of_the_line_20_m_off(
    client, tokens: Tokens, side_angle: int, country: str
) -> None:
    # VN-CN runs west to east with China on its left: 20 m to the left of the direction is CN.
    a = (await _get(client, tokens, "/api/v1/chainage", border="VN-CN", ref="1089+100")).json()
    b = (await _get(client, tokens, "/api/v1/chainage", border="VN-CN", ref="1089+110")).json()
    (lon1, lat1), (lon2, lat2) = a["geometry"]["coordinates"], b["geometry"]["coordinates"]
    azimuth, _, _ = GEOD.inv(lon1, lat1, lon2, lat2)
    lon, lat, _ = GEOD.fwd(lon1, lat1, azimuth + side_angle, 20)
    r = await _get(client, tokens, "/api/v1/chainage/locate", border="VN-CN", lon=lon, lat=lat)
    props = r.json()["properties"]
    assert props["side"] == country
    assert props["distance_to_line_m"] == pytest.approx(20, abs=0.5)
    assert props["ref"].startswith("1089+")


async def test_locate_names_the_nearest_marker(client, tokens: Tokens) -> None:
    marker = (
        await client.get("/api/v1/borders/VN-CN/markers/1089", headers=bearer(tokens.analyst))
    ).json()
    lon, lat = marker["geometry"]["coordinates"]
    r = await _get(client, tokens, "/api/v1/chainage/locate", border="VN-CN", lon=lon, lat=lat)
    props = r.json()["properties"]
    assert props["nearest_marker"] == "1089"
    assert props["nearest_marker_distance_m"] < 1
    assert props["ref"] == "1089"


@pytest.mark.parametrize(
    ("ref", "words"),
    [
        ("1378+5000", "past the end"),
        ("1379", "no marker 1379"),
        ("836", "no marker 836"),  # only 836(1) and 836(2) exist
        ("1053-1042", "runs backwards"),
        ("1089-1089", "no length"),
        ("12x+5", "not a marker code"),
        ("1089+abc", "not metres"),
    ],
)
async def test_bad_references_are_422_with_the_reason(
    client, tokens: Tokens, ref: str, words: str
) -> None:
    r = await _get(client, tokens, "/api/v1/chainage", border="VN-CN", ref=ref)
    assert r.status_code == 422, r.text
    assert words in r.json()["detail"]
    assert r.json()["errors"][0]["field"] == "ref"


async def test_border_comes_from_the_ref_prefix(client, tokens: Tokens) -> None:
    r = await _get(client, tokens, "/api/v1/chainage", ref="VN-CN:1089")
    assert r.status_code == 200
    mismatch = await _get(client, tokens, "/api/v1/chainage", ref="VN-CN:1089", border="VN-LA")
    assert mismatch.status_code == 422
    missing = await _get(client, tokens, "/api/v1/chainage", ref="1089")
    assert missing.status_code == 422
    unknown = await _get(client, tokens, "/api/v1/chainage", ref="VN-XX:1089")
    assert unknown.status_code == 404

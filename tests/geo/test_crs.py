"""CRS parsing and transformation, checked against properties that hold by definition
(a central meridian maps to false easting 500 000 m) and against PostGIS's own ST_Transform."""

from __future__ import annotations

import numpy as np
import pytest
from pyproj import CRS
from sqlalchemy import text

from app.geo.crs import (
    SUPPORTED_EPSG,
    OutsideAreaOfUse,
    UnsupportedCrs,
    area_of_use,
    from_wgs84,
    parse_crs,
    to_wgs84,
)


@pytest.mark.parametrize(
    ("name", "code"),
    [
        (None, 4326),
        ("", 4326),
        ("EPSG:4326", 4326),
        ("epsg:3405", 3405),
        ("9215", 9215),
        (9210, 9210),
        ("http://www.opengis.net/def/crs/EPSG/0/5899", 5899),
        ("urn:ogc:def:crs:EPSG::4756", 4756),
        ("OGC:CRS84", 4326),
        ("http://www.opengis.net/def/crs/OGC/1.3/CRS84", 4326),
    ],
)
def test_parse_names(name: str | int | None, code: int) -> None:
    assert parse_crs(name) == code


@pytest.mark.parametrize(
    "name", ["EPSG:3857", "32648", "EPSG:", "WGS84", "EPSG:9219", "EPSG:4326;DROP"]
)
def test_unsupported_names(name: str) -> None:
    with pytest.raises(UnsupportedCrs):
        parse_crs(name)


def _centre(code: int) -> tuple[float, float]:
    a = area_of_use(code)
    return (a.west + a.east) / 2, (a.south + a.north) / 2


@pytest.mark.parametrize("code", sorted(SUPPORTED_EPSG))
def test_round_trip_within_a_centimetre(code: int) -> None:
    lon, lat = _centre(code)
    xy = from_wgs84(np.array([[lon, lat]]), code)
    back = to_wgs84(xy, code)[0]
    assert back == pytest.approx([lon, lat], abs=1e-7)  # about 1 cm


@pytest.mark.parametrize(
    ("code", "central_meridian"),
    [
        (3405, 105.0),
        (3406, 111.0),
        (9205, 103.0),
        (9208, 104.75),
        (9209, 105.5),
        (9210, 105.75),
        (9215, 107.25),
        (5899, 107.75),
    ],
)
def test_central_meridian_maps_to_false_easting(code: int, central_meridian: float) -> None:
    # The projection as pyproj has it (VN-2000 geographic is EPSG:4756), and the service's
    # to_wgs84 against pyproj's own datum shift: checked apart from app.geo.crs.
    from pyproj import Transformer

    # On the meridian the easting is the false easting (pyproj alone: the premise).
    x, _ = Transformer.from_crs(4756, code, always_xy=True).transform(central_meridian, 21.0)
    assert x == pytest.approx(500_000.0, abs=1e-3)
    # The service's inverse, at the middle of the projection's area of use (EPSG:3406's
    # meridian, 111 E, lies outside Vietnam's part of its zone).
    area = area_of_use(code)
    lon, lat = (area.west + area.east) / 2, (area.south + area.north) / 2
    x, y = Transformer.from_crs(4756, code, always_xy=True).transform(lon, lat)
    expected = Transformer.from_crs(4756, 4326, always_xy=True).transform(lon, lat)
    served = to_wgs84(np.array([[x, y]]), code)[0]
    assert served == pytest.approx(expected, abs=1e-8)


def test_vn2000_datum_shift_is_applied() -> None:
    # The same numbers in WGS 84 and VN-2000 are different places: PROJ must apply the
    # VN-2000 -> WGS 84 transformation (EPSG:6960 family), a shift of about 200-400 m here.
    from pyproj import Geod

    lonlat = to_wgs84(np.array([[106.684, 22.003]]), 4756)[0]
    _, _, shift = Geod(ellps="WGS84").inv(106.684, 22.003, lonlat[0], lonlat[1])
    assert 100 < shift < 500
    assert "VN-2000" in CRS.from_epsg(4756).name


def test_outside_area_of_use_is_refused() -> None:
    with pytest.raises(OutsideAreaOfUse):
        to_wgs84(np.array([[900_000.0, 2_434_000.0]]), 9205)  # ~107 E: far east of zone 103°
    with pytest.raises(OutsideAreaOfUse):
        to_wgs84(np.array([[181.0, 10.0]]), 4326)
    with pytest.raises(OutsideAreaOfUse):
        to_wgs84(np.array([[106.0, 91.0]]), 4326)
    with pytest.raises(OutsideAreaOfUse):
        to_wgs84(np.array([[106.0, 10.0]]), 3406)  # 106 E is west of UTM 49N's area


@pytest.mark.parametrize("code", sorted(SUPPORTED_EPSG - {4326}))
async def test_postgis_agrees_with_pyproj(db, code: int) -> None:
    lon, lat = _centre(code)
    expected = from_wgs84(np.array([[lon, lat]]), code)[0]
    row = (
        await db.execute(
            text(
                "SELECT ST_X(g), ST_Y(g) FROM ST_Transform(ST_SetSRID(ST_MakePoint(:x, :y), 4326), CAST(:s AS integer)) g"
            ),
            {"x": lon, "y": lat, "s": code},
        )
    ).one()
    tolerance = 1e-7 if code == 4756 else 1e-3  # degrees for 4756, metres otherwise
    assert [row[0], row[1]] == pytest.approx(list(expected), abs=tolerance)

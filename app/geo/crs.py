"""Coordinate reference systems accepted on input and output.

WGS 84 (EPSG:4326, lon/lat as in RFC 7946) and the VN-2000 family: geographic 4756, UTM
3405/3406, and the provincial TM-3 zones 9205-9218 and 5897-5899. PROJ chooses the
VN-2000 -> WGS 84 operation (EPSG:6960 where it applies); no hand-written towgs84.
Transformers are cached: building one costs milliseconds, using one microseconds.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from pyproj import CRS, Transformer

WGS84 = 4326
SUPPORTED_EPSG: frozenset[int] = frozenset(
    [4326, 4756, 3405, 3406, *range(9205, 9219), 5897, 5898, 5899]
)
CRS84_URI = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"

_EPSG_RE = re.compile(
    r"^(?:EPSG:{1,2}|urn:ogc:def:crs:EPSG:[\d.]*:|https?://www\.opengis\.net/def/crs/EPSG/0/)?(\d+)$",
    re.IGNORECASE,
)
_CRS84_NAMES = {"crs84", "ogc:crs84", "urn:ogc:def:crs:ogc:1.3:crs84", CRS84_URI.lower()}


class UnsupportedCrs(ValueError):
    pass


class OutsideAreaOfUse(ValueError):
    pass


def supported_list() -> str:
    return ", ".join(f"EPSG:{c}" for c in sorted(SUPPORTED_EPSG))


def parse_crs(text: str | int | None) -> int:
    """EPSG code of a CRS named as `EPSG:3405`, `3405`, an OGC URI or CRS84; default 4326."""
    if text is None or text == "":
        return WGS84
    if isinstance(text, int):
        code = text
    else:
        name = text.strip()
        if name.lower() in _CRS84_NAMES:
            return WGS84  # CRS84 is 4326 with lon/lat axis order, which is our order anyway
        match = _EPSG_RE.match(name)
        if match is None:
            raise UnsupportedCrs(f"{text!r} is not a CRS name; supported: {supported_list()}")
        code = int(match.group(1))
    if code not in SUPPORTED_EPSG:
        raise UnsupportedCrs(f"EPSG:{code} is not supported; supported: {supported_list()}")
    return code


def crs_uri(epsg: int) -> str:
    return CRS84_URI if epsg == WGS84 else f"http://www.opengis.net/def/crs/EPSG/0/{epsg}"


@dataclass(frozen=True)
class AreaOfUse:
    west: float
    south: float
    east: float
    north: float

    def contains_all(self, lonlat: np.ndarray, tolerance_deg: float = 0.05) -> np.ndarray:
        """Per row of an (N, 2) lon/lat array: inside the area (with a small tolerance, as
        EPSG's published extents are rounded)."""
        lon, lat = lonlat[:, 0], lonlat[:, 1]
        tol = 0.0 if (self.west, self.east) == (-180.0, 180.0) else tolerance_deg
        with np.errstate(invalid="ignore"):
            return (
                (lon >= self.west - tol)
                & (lon <= self.east + tol)
                & (lat >= self.south - tol)
                & (lat <= self.north + tol)
            )


@lru_cache(maxsize=64)
def area_of_use(epsg: int) -> AreaOfUse:
    area = CRS.from_epsg(epsg).area_of_use
    if area is None:  # pragma: no cover - every supported code has one
        return AreaOfUse(-180, -90, 180, 90)
    return AreaOfUse(area.west, area.south, area.east, area.north)


@lru_cache(maxsize=64)
def _transformer(source: int, target: int) -> Transformer:
    # always_xy: x=easting/longitude first, whatever the CRS's declared axis order.
    return Transformer.from_crs(source, target, always_xy=True)


def to_wgs84(xy: np.ndarray, epsg: int) -> np.ndarray:
    """Transform an (N, 2) array of x, y in `epsg` to lon, lat, refusing points outside its
    area of use (which for EPSG:4326 is the valid lon/lat range)."""
    xy = np.asarray(xy, dtype=float).reshape(-1, 2)
    if epsg == WGS84:
        out = xy
    else:
        lon, lat = _transformer(epsg, WGS84).transform(xy[:, 0], xy[:, 1])
        out = np.column_stack([lon, lat])
    area = area_of_use(epsg)
    bad = ~np.isfinite(out).all(axis=1) | ~area.contains_all(out)
    if bad.any():
        x, y = xy[int(np.argmax(bad))]
        raise OutsideAreaOfUse(
            f"coordinate ({x}, {y}) lies outside the area of use of EPSG:{epsg} "
            f"(lon {area.west}..{area.east}, lat {area.south}..{area.north})"
        )
    return out


def from_wgs84(lonlat: np.ndarray, epsg: int) -> np.ndarray:
    lonlat = np.asarray(lonlat, dtype=float).reshape(-1, 2)
    if epsg == WGS84:
        return lonlat
    x, y = _transformer(WGS84, epsg).transform(lonlat[:, 0], lonlat[:, 1])
    return np.column_stack([x, y])


@lru_cache(maxsize=64)
def latitude_first(epsg: int) -> bool:
    """Whether the CRS's first axis is northing/latitude (EPSG:4326, 4756): OGC API Part 2
    answers in the CRS's own axis order, unlike GeoJSON's lon/lat."""
    return CRS.from_epsg(epsg).axis_info[0].direction == "north"


@lru_cache(maxsize=64)
def is_geographic(epsg: int) -> bool:
    return bool(CRS.from_epsg(epsg).is_geographic)

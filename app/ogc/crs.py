"""The CRS of an OGC answer or of a bbox: CRS84 by default, or an EPSG code in that CRS's
own axis order (OGC API Features Part 2)."""

from __future__ import annotations

from dataclasses import dataclass

from app.errors import BadRequest
from app.geo.crs import CRS84_URI, SUPPORTED_EPSG, UnsupportedCrs, latitude_first, parse_crs

EPSG_URI = "http://www.opengis.net/def/crs/EPSG/0/{}"
SUPPORTED_CRS = [CRS84_URI] + [EPSG_URI.format(code) for code in sorted(SUPPORTED_EPSG)]


@dataclass(frozen=True)
class OutputCrs:
    srid: int
    flip: bool  # latitude (northing) first
    uri: str

    @property
    def geojson_member(self) -> str:
        """`,"crs":...` for a document in any CRS but CRS84, else nothing. RFC 7946 dropped
        the member, but GDAL (and through it QGIS and geopandas) reads a file's CRS from it
        alone; Content-Crs says the same to clients that read headers."""
        if self.uri == CRS84_URI:
            return ""
        urn = f"urn:ogc:def:crs:EPSG::{self.srid}"
        return f',"crs":{{"type":"name","properties":{{"name":"{urn}"}}}}'


CRS84 = OutputCrs(4326, False, CRS84_URI)


def output_crs(value: str | None, field: str) -> OutputCrs:
    """CRS84 (lon/lat, the default) or an EPSG code, in that CRS's own axis order."""
    if value is None or value.strip().lower() in {CRS84_URI.lower(), "crs84", "ogc:crs84"}:
        return CRS84
    try:
        epsg = parse_crs(value)
    except UnsupportedCrs as exc:
        raise BadRequest(f"{field}: {exc}", extra={"supported": SUPPORTED_CRS}) from exc
    return OutputCrs(epsg, latitude_first(epsg), EPSG_URI.format(epsg))

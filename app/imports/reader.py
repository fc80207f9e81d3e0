"""Read GeoJSON, CSV (lon/lat or WKT columns) and GeoPackage through GDAL (pyogrio), in
batches, as numbered rows: attributes as text, geometry as GeoJSON."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from shapely import from_wkb
from shapely.geometry import mapping

from app.geo.crs import UnsupportedCrs, parse_crs

BATCH = 1_000
# GDAL's CSV driver finds the geometry in these columns.
CSV_OPTIONS = {
    "X_POSSIBLE_NAMES": "lon,lng,long,longitude,x",
    "Y_POSSIBLE_NAMES": "lat,latitude,y",
    "GEOM_POSSIBLE_NAMES": "wkt,geometry,geom",
    "KEEP_GEOM_COLUMNS": "NO",
}


class UnreadableFile(ValueError):
    pass


@dataclass(frozen=True)
class Row:
    number: int  # 1-based, in file order (a CSV's first data line is row 1)
    fields: dict[str, Any]
    geometry: dict[str, Any] | None


def _options(path: Path) -> dict[str, str]:
    if path.suffix.lower() not in {".csv", ".txt"}:
        return {}
    # GDAL builds the point from lon/lat when both kinds of column are there; a row with
    # a WKT (the service's own CSV export: lon/lat is a point on a line or area) is read
    # by its WKT, the whole geometry.
    with path.open(encoding="utf-8-sig", errors="replace") as f:
        header = {name.strip().strip('"').lower() for name in f.readline().split(",")}
    if header & set(CSV_OPTIONS["GEOM_POSSIBLE_NAMES"].split(",")):
        return {k: v for k, v in CSV_OPTIONS.items() if not k.startswith(("X_", "Y_"))}
    return CSV_OPTIONS


def file_info(path: Path) -> tuple[int, int | None]:
    """(row count, EPSG code named by the file or None)."""
    import pyogrio  # here, not at the top: GDAL costs every worker ~40 MB; imports are rare

    try:
        info = pyogrio.read_info(path, **_options(path))
    except Exception as exc:  # GDAL's errors for unreadable input
        raise UnreadableFile(f"cannot read {path.name}: {exc}") from exc
    epsg: int | None = None
    if info.get("crs"):
        try:
            epsg = parse_crs(str(info["crs"]))
        except UnsupportedCrs as exc:
            raise UnreadableFile(f"{path.name} is in {info['crs']}: {exc}") from exc
    return int(info["features"]), epsg


def _value(value: Any) -> Any:
    if value is None:
        return None
    if isinstance(value, float) and np.isnan(value):
        return None
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    if isinstance(value, np.ndarray):  # a GeoJSON array (GDAL's StringList)
        return [_value(v) for v in value.tolist()]
    return value


def read_rows(path: Path) -> Iterator[Row]:
    import pyogrio  # see file_info

    total, _ = file_info(path)
    number = 0
    for start in range(0, total, BATCH):
        # Times as written (with their offset): a datetime64 would drop the time zone.
        meta, _, geometry, fields = pyogrio.raw.read(
            path,
            skip_features=start,
            max_features=BATCH,
            datetime_as_string=True,
            **_options(path),
        )
        names = [str(n) for n in meta["fields"]]
        # A layer without geometry (a CSV of ranges) still has its rows.
        count = len(fields[0]) if len(fields) else (0 if geometry is None else len(geometry))
        for index in range(count):
            number += 1
            wkb = geometry[index] if geometry is not None else None
            geom = dict(mapping(from_wkb(wkb))) if wkb is not None else None
            values = {name: _value(col[index]) for name, col in zip(names, fields, strict=True)}
            yield Row(number, values, geom)

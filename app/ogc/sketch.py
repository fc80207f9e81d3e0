"""A small map of one feature for its OGC HTML page: an inline SVG drawn here, so the page
keeps its no-script Content-Security-Policy and needs no tiles. The feature is drawn over
the countries around it (Natural Earth's, shipped with the map's files by `make web`), so
a reader sees which side of the line it lies on."""

from __future__ import annotations

import json
import math
from functools import lru_cache
from pathlib import Path
from typing import Any

import shapely
from markupsafe import Markup
from shapely.geometry import box, shape

COUNTRIES = Path(__file__).resolve().parent.parent / "web/vendor/places/countries.geojson"
WIDTH, HEIGHT = 360, 240
MIN_SPAN_DEG = 0.02  # about 2 km: a point is shown with its surroundings
HOME = "VN"
Frame = tuple[float, float, float, float]  # west, south, east, north


@lru_cache(maxsize=1)
def _countries() -> list[tuple[str, shapely.Geometry]]:
    if not COUNTRIES.is_file():  # `make web` not run: the feature alone
        return []
    found = json.loads(COUNTRIES.read_text(encoding="utf-8"))["features"]
    # Natural Earth's coasts self-intersect here and there at six decimals: made valid once.
    shapes = [
        (str(f["properties"]["code"]), shapely.make_valid(shape(f["geometry"]))) for f in found
    ]
    for _, geometry in shapes:
        shapely.prepare(geometry)
    return shapes


def _frame(geometry: shapely.Geometry) -> Frame:
    """The feature's box, grown by a third and to the minimum span, in the SVG's shape."""
    west, south, east, north = geometry.bounds
    cx, cy = (west + east) / 2, (south + north) / 2
    squash = math.cos(math.radians(cy))  # degrees of longitude are shorter
    span_y = max((north - south) * 1.3, (east - west) * 1.3 * squash * HEIGHT / WIDTH, MIN_SPAN_DEG)
    span_x = span_y * WIDTH / HEIGHT / squash
    return cx - span_x / 2, cy - span_y / 2, cx + span_x / 2, cy + span_y / 2


def _xy(lon: float, lat: float, frame: Frame) -> tuple[float, float]:
    west, south, east, north = frame
    return (lon - west) / (east - west) * WIDTH, (north - lat) / (north - south) * HEIGHT


def _path(geometry: shapely.Geometry, frame: Frame) -> str:
    def xy(lon: float, lat: float) -> str:
        x, y = _xy(lon, lat, frame)
        return f"{x:.1f},{y:.1f}"

    parts = []
    for part in getattr(geometry, "geoms", [geometry]):
        if part.geom_type == "Polygon":
            for ring in [part.exterior, *part.interiors]:
                parts.append("M" + " L".join(xy(*c[:2]) for c in ring.coords) + " Z")
        elif part.geom_type == "LineString":
            parts.append("M" + " L".join(xy(*c[:2]) for c in part.coords))
    return " ".join(parts)


def sketch(geojson: dict[str, Any] | None) -> Markup:
    """The SVG, or nothing for a feature without geometry."""
    if not geojson:
        return Markup("")
    feature = shape(geojson)
    if feature.is_empty:
        return Markup("")
    frame = _frame(feature)
    window = box(*frame)
    drawn = []
    for code, country in _countries():
        if not country.intersects(window):
            continue
        part = shapely.clip_by_rect(country, *frame)
        fill = "#fbf7ea" if code == HOME else "#e4e4e0"
        drawn.append(f'<path class="country {code}" d="{_path(part, frame)}" fill="{fill}" '
                     'stroke="#8c8c8c" stroke-width="1"/>')  # fmt: skip
    if feature.geom_type in ("Point", "MultiPoint"):
        for point in getattr(feature, "geoms", [feature]):
            x, y = _xy(point.x, point.y, frame)
            drawn.append(f'<circle class="feature" cx="{x:.1f}" cy="{y:.1f}" r="6" fill="#d62728" '
                         'stroke="#000" stroke-width="1.5"/>')  # fmt: skip
    else:
        outline = feature.boundary if feature.geom_type.endswith("Polygon") else feature
        drawn.append(f'<path class="feature" d="{_path(outline, frame)}" fill="none" '
                     'stroke="#d62728" stroke-width="3"/>')  # fmt: skip
    west, south, east, north = frame
    return Markup(  # noqa: S704 - numbers and the shipped file's country codes only
        f'<svg class="sketch" role="img" viewBox="0 0 {WIDTH} {HEIGHT}" width="{WIDTH}" '
        f'height="{HEIGHT}" data-frame="{west:.6f},{south:.6f},{east:.6f},{north:.6f}">'
        f'<rect width="{WIDTH}" height="{HEIGHT}" fill="#dde7ef"/>{"".join(drawn)}</svg>'
    )

"""The OGC item page's small map (issue 26: "an item page with no map"): an inline SVG of
the feature over the countries around it, read back here as a reader's eye would: the
point is drawn where its coordinates put it, inside the country of its side."""

from __future__ import annotations

import re

import pytest
import shapely
from shapely.geometry import Point, Polygon

from tests.conftest import Tokens, bearer
from tests.incidents.helpers import feature, off_line, point


def _polygons(d: str) -> list[Polygon]:
    rings = []
    for part in re.findall(r"M([^MZ]+)Z", d):
        coords = [tuple(map(float, pair.split(","))) for pair in part.replace("L", " ").split()]
        rings.append(Polygon(coords))
    return rings


@pytest.mark.parametrize("side", ["VN", "CN"])
async def test_an_item_page_draws_the_feature_on_its_side(
    client, tokens: Tokens, side: str
) -> None:  # type: ignore[no-untyped-def]
    lon, lat = await off_line(client, tokens.admin, "1089+300", 400, side)
    created = await client.post(
        "/api/v1/incidents",
        json=feature(geometry=point(lon, lat), title=f"Sketch {side}"),
        headers=bearer(tokens.admin),
    )
    assert created.status_code == 201, created.text
    page = await client.get(
        f"/ogc/collections/incidents/items/{created.json()['id']}",
        params={"f": "html"},
        headers=bearer(tokens.analyst),
    )
    assert page.status_code == 200 and "<script" not in page.text
    svg = re.search(r'<svg class="sketch"[^>]*data-frame="([^"]+)"[^>]*>(.*?)</svg>', page.text)
    assert svg is not None
    west, south, east, north = map(float, svg.group(1).split(","))
    # The frame's box, in the SVG's 360 x 240: where the point must be drawn.
    x = (lon - west) / (east - west) * 360
    y = (north - lat) / (north - south) * 240
    circle = re.search(r'<circle class="feature" cx="([\d.]+)" cy="([\d.]+)"', svg.group(2))
    assert circle is not None
    drawn = Point(float(circle.group(1)), float(circle.group(2)))
    assert drawn.distance(Point(x, y)) < 0.2
    countries = dict(re.findall(r'<path class="country (\w+)" d="([^"]+)"', svg.group(2)))
    assert set(countries) == {"VN", "CN"}
    inside = shapely.union_all(_polygons(countries[side]))
    assert inside.contains(drawn), f"the {side} point is not drawn in {side}"

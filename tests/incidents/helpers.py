"""Building submissions and places on the real demo line."""

from __future__ import annotations

import uuid
from typing import Any

from pyproj import Geod

from tests.conftest import bearer

GEOD = Geod(ellps="WGS84")


def new_tag() -> str:
    """A tag unique to one test, so its queries see only its own incidents."""
    return f"t-{uuid.uuid4().hex[:12]}"


def feature(
    *,
    geometry: dict[str, Any] | None = None,
    location: str | None = None,
    category: str = "fence",
    title: str = "Hàng rào mới",
    occurred_at: str = "2024-05-10T09:30:00+07:00",
    tags: list[str] | None = None,
    incident_id: uuid.UUID | None = None,
    **properties: Any,
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "type": "Feature",
        "id": str(incident_id or uuid.uuid4()),
        "properties": {
            "category": category,
            "title": title,
            "occurred_at": occurred_at,
            "tags": tags or [],
            **properties,
        },
    }
    if geometry is not None:
        body["geometry"] = geometry
    if location is not None:
        body["location"] = location
    return body


async def line_point(
    client: Any, token: str, ref: str, border: str = "VN-CN"
) -> tuple[float, float]:
    r = await client.get(
        "/api/v1/chainage", params={"border": border, "ref": ref}, headers=bearer(token)
    )
    assert r.status_code == 200, r.text
    lon, lat = r.json()["geometry"]["coordinates"]
    return float(lon), float(lat)


async def direction(client: Any, token: str, ref: str) -> float:
    """Azimuth of the line at `ref` (degrees), from the line's points 5 m either side."""
    marker, _, offset = ref.partition("+")
    metres = float(offset or 0)
    a = await line_point(client, token, f"{marker}+{metres - 5:g}" if metres >= 5 else marker)
    b = await line_point(client, token, f"{marker}+{metres + 5:g}")
    azimuth, _, _ = GEOD.inv(a[0], a[1], b[0], b[1])
    return float(azimuth)


async def off_line(
    client: Any, token: str, ref: str, metres: float, side: str
) -> tuple[float, float]:
    """A point `metres` off the VN-CN line at `ref`: side 'VN' (right of the direction)
    or 'CN' (left)."""
    lon, lat = await line_point(client, token, ref)
    azimuth = await direction(client, token, ref)
    turn = 90 if side == "VN" else -90
    x, y, _ = GEOD.fwd(lon, lat, azimuth + turn, metres)
    return float(x), float(y)


def point(lon: float, lat: float) -> dict[str, Any]:
    return {"type": "Point", "coordinates": [lon, lat]}


def projected(lon: float, lat: float, epsg: int) -> tuple[float, float]:
    """lon/lat (WGS 84) in `epsg`, by pyproj directly: test inputs made without the
    service's own app.geo.crs, so a fault there cannot hide in the input too."""
    from pyproj import Transformer

    x, y = Transformer.from_crs(4326, epsg, always_xy=True).transform(lon, lat)
    return float(x), float(y)
